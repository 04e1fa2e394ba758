/**
 * Test and bench support: a member enrolled into a real vault of the test enclave, known to the
 * voting backend (so their subscription counts) unless told otherwise, with the PIN set — which
 * unlocks the vault, so it fetches its subscription statement.
 */
import type { NatsConnection } from "nats";
import { PinService } from "../../../gen/vettid/vault/v1/pin_pb.js";
import type { TestEnclave } from "../../support/test-enclave.js";
import { enrollMember, type TestMember } from "../../support/vault-member.js";
import type { VotingStack } from "./voting-stack.js";

/** Enrolls one voter; `subscribed: false` leaves them out of the backend's members table. */
export async function enrollVoter(options: {
  readonly stack: VotingStack;
  readonly enclave: TestEnclave;
  /** The app's NATS connection. */
  readonly app: NatsConnection;
  readonly pin: string;
  readonly subscribed?: boolean;
}): Promise<TestMember> {
  const { stack, enclave } = options;
  const member = await enrollMember({
    backend: stack.enclaveConnection,
    member: options.app,
    nsm: stack.fixture.nsm,
  });
  const identityPublicKey = await enclave.identityPublicKey(member.ownerGuid);
  if (identityPublicKey === undefined) throw new Error("enrollment made no vault");
  if (options.subscribed ?? true) {
    await stack.enroll({
      ownerGuid: member.ownerGuid,
      identityPublicKey,
      identitySeed: new Uint8Array(32),
    });
  }
  await member.client(PinService).setupPin({ pin: options.pin });
  return member;
}
