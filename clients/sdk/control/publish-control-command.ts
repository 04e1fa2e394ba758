import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { NatsConnection } from "nats";
import {
  type ControlCommandResult,
  ControlCommandResultSchema,
  type SignedControlCommand,
  SignedControlCommandSchema,
} from "../../../gen/vettid/control/v1/command_pb.js";
import {
  type ControlTargetSpec,
  controlCommandSubject,
  controlResultSubject,
} from "./control-command.js";

/**
 * How long to collect results after publishing when the caller says nothing: 10 seconds. Receivers
 * answer ACCEPTED or REJECTED within a second; long actions (drain) report COMPLETED later, and
 * the operator can wait longer with `waitMs`.
 */
export const DEFAULT_CONTROL_RESULT_WAIT_MS = 10_000;

/** Options of {@link publishControlCommand}. */
export interface PublishControlCommandOptions {
  /** Where the command goes; must be the target inside the signed command. */
  readonly target: ControlTargetSpec;
  /** The command id inside the signed command (results arrive on `Control.result.{id}`). */
  readonly commandId: string;
  /** How long to listen for results. Default {@link DEFAULT_CONTROL_RESULT_WAIT_MS}. */
  readonly waitMs?: number;
  /** Stop listening once this many results arrived. Default: listen for `waitMs`. */
  readonly expectedResults?: number;
  /** Called for each result as it arrives (for live output). */
  readonly onResult?: (result: ControlCommandResult) => void;
  /** Called for a message on the result subject that is not a result (for logs). */
  readonly onProblem?: (problem: string) => void;
  /** Stops listening early. */
  readonly signal?: AbortSignal;
}

/**
 * Publishes a signed command on its target's subject and collects the receivers' results from
 * `Control.result.{command_id}` for a while. Subscribes before publishing, so no result is lost.
 * Results are reports, not proof: a REJECTED for UNKNOWN_KEY or BAD_SIGNATURE was addressed from
 * unverified bytes.
 */
export async function publishControlCommand(
  connection: NatsConnection,
  signed: SignedControlCommand,
  options: PublishControlCommandOptions,
): Promise<ControlCommandResult[]> {
  const subject = controlCommandSubject(options.target);
  const resultSubject = controlResultSubject(options.commandId);
  const waitMs = options.waitMs ?? DEFAULT_CONTROL_RESULT_WAIT_MS;
  const results: ControlCommandResult[] = [];
  const subscription = connection.subscribe(resultSubject);
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    options.signal?.addEventListener("abort", stop, { once: true });
    void (async () => {
      for await (const message of subscription) {
        let result: ControlCommandResult;
        try {
          result = fromBinary(ControlCommandResultSchema, message.data);
        } catch {
          options.onProblem?.(`a message on ${resultSubject} is not a ControlCommandResult`);
          continue;
        }
        if (result.commandId !== options.commandId) {
          options.onProblem?.(
            `a result for another command (${result.commandId}) on ${resultSubject}`,
          );
          continue;
        }
        results.push(result);
        options.onResult?.(result);
        if (options.expectedResults !== undefined && results.length >= options.expectedResults) {
          stop();
          return;
        }
      }
    })();
  });
  await connection.flush(); // the subscription is registered before the command goes out
  connection.publish(subject, toBinary(SignedControlCommandSchema, signed));
  await connection.flush();
  await done;
  subscription.unsubscribe();
  return results;
}
