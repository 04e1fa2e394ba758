import { createInterface } from "node:readline";
import { usageError } from "./exit-codes.js";
import type { CliIo } from "./output.js";

/**
 * Reads a secret (password, PIN) without echoing it: from the environment variable `envName` when
 * set (scripts; beware that environments can leak), else a hidden prompt on a terminal, else the
 * next line of stdin (pipes: `printf '%s\n' "$PIN" | vettid unlock`). Never printed or logged.
 *
 * @throws CliError (usage) when nothing can be read.
 */
export async function readSecret(io: CliIo, prompt: string, envName: string): Promise<string> {
  const fromEnv = io.env[envName];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const stdin = io.stdin as NodeJS.ReadStream;
  if (stdin.isTTY === true && io.stderr.isTTY === true) return hiddenPrompt(io, prompt);
  const line = await nextLine(io);
  if (line === undefined || line === "") {
    throw usageError(
      `no ${prompt.replace(/:\s*$/, "")} given: type it at the prompt, pipe it on stdin or set ${envName}`,
    );
  }
  return line;
}

/** Lines of stdin, shared by every read of one run (a pipe may carry several secrets). */
let lines: AsyncIterator<string> | undefined;

async function nextLine(io: CliIo): Promise<string | undefined> {
  lines ??= createInterface({ input: io.stdin, crlfDelay: Number.POSITIVE_INFINITY })[
    Symbol.asyncIterator
  ]();
  const next = await lines.next();
  return next.done === true ? undefined : next.value;
}

async function hiddenPrompt(io: CliIo, prompt: string): Promise<string> {
  const stdin = io.stdin as NodeJS.ReadStream;
  io.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  let value = "";
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        for (const char of chunk.toString("utf8")) {
          if (char === "\r" || char === "\n") {
            stdin.off("data", onData);
            resolve(value);
            return;
          }
          if (char === "\u0003") {
            stdin.off("data", onData);
            reject(usageError("cancelled"));
            return;
          }
          if (char === "\u007f" || char === "\b") value = value.slice(0, -1);
          else value += char;
        }
      };
      stdin.on("data", onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    io.stderr.write("\n");
  }
}
