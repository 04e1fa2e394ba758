/** Test-only: the real AWS documents in `../testdata/` and what their sources assert about them. */
import { readFileSync } from "node:fs";

/** SHA-256 fingerprint of the AWS Nitro root G1 certificate. */
export const AWS_NITRO_ROOT_G1_FINGERPRINT =
  "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b";

/** A real document and the moment its certificate chain is valid. */
export interface NitroVector {
  readonly name: string;
  readonly raw: Uint8Array;
  readonly verifyAtMs: number;
}

function load(name: string, verifyAt: string): NitroVector {
  const text = readFileSync(new URL(`../testdata/${name}`, import.meta.url), "utf8");
  return {
    name,
    raw: new Uint8Array(Buffer.from(text.trim(), "base64")),
    verifyAtMs: Date.parse(verifyAt),
  };
}

/** veracruz-project's document: public_key null, 32-byte user_data and nonce; not debug. */
export const VECTOR_01 = load("01_veracruz_euw1_2022-11-09.b64", "2022-11-09T23:00:00Z");

/** blocky/nitrite's debug-mode document: PCR0–2 zero, high-S signature, 1024-byte fields. */
export const VECTOR_03_DEBUG = load(
  "03_blocky_use1_2024-09-07_debug.b64",
  "2024-09-07T14:38:06.508Z",
);
