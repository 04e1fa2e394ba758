import { create } from "@bufbuild/protobuf";
import {
  type ProteanCredential,
  ProteanCredentialSchema,
} from "../../gen/vettid/vault/v1/credential_pb.js";

/**
 * The credential a test vault would issue for CEK version `version`: content derived from the
 * version, so a torn or mixed-up write shows as a mismatch. About 4 KiB, like a real blob.
 */
export function testCredential(version: number): ProteanCredential {
  const blob = new Uint8Array(4096);
  for (let i = 0; i < blob.length; i++) blob[i] = (version * 31 + i) & 0xff;
  return create(ProteanCredentialSchema, {
    encryptedBlob: blob,
    cekKeyId: `cek-${version}`,
    cekVersion: BigInt(version),
    identityPublicKey: new Uint8Array(32).fill(0x42),
    issuedAtMs: BigInt(1_800_000_000_000 + version),
  });
}
