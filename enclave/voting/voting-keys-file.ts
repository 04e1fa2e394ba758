import { readFile } from "node:fs/promises";
import { trustKeysNode } from "../../clients/sdk/voting/node.js";
import type { VotingTrust } from "./cast-vote.js";

/**
 * The voting keys an enclave image pins, as a JSON file:
 *
 *   { "orgKeys": ["<base64 SPKI DER>", …], "subscriptionKeys": ["<base64 SPKI DER>", …] }
 *
 * `orgKeys` verify proposals (ECDSA P-256, the org's KMS key); `subscriptionKeys` verify
 * subscription statements (a separate KMS key). In production the file is part of the enclave
 * image, so its PCRs cover the keys; locally the stack writes it from its own keys.
 *
 * @throws Error naming what is wrong: unreadable file, not JSON, a missing list, a key that is
 *   not a P-256 SPKI.
 */
export async function readVotingKeysFile(path: string): Promise<VotingTrust> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new Error(`voting keys file ${path}: ${(error as Error).message}`);
  }
  const list = (field: "orgKeys" | "subscriptionKeys"): Uint8Array[] => {
    const value = (parsed as Record<string, unknown> | null)?.[field];
    if (!Array.isArray(value) || value.length === 0 || value.some((k) => typeof k !== "string")) {
      throw new Error(
        `voting keys file ${path}: "${field}" must be a non-empty list of base64 SPKI keys`,
      );
    }
    return value.map((k: string) => new Uint8Array(Buffer.from(k, "base64")));
  };
  const org = list("orgKeys");
  const subscription = list("subscriptionKeys");
  try {
    return { orgKeys: trustKeysNode(org), subscriptionKeys: trustKeysNode(subscription) };
  } catch (error) {
    throw new Error(`voting keys file ${path}: ${(error as Error).message}`);
  }
}
