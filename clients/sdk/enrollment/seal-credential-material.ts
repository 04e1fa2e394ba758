import { toBinary } from "@bufbuild/protobuf";
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import {
  type CredentialCreationMaterial,
  CredentialCreationMaterialSchema,
} from "../../../gen/vettid/enrollment/v1/enrollment_pb.js";

/** HPKE info of the sealed credential material (enrollment.proto, "vettid-enroll-finalize-v1"). */
export const ENROLL_FINALIZE_INFO = "vettid-enroll-finalize-v1";

/** Largest sealed material the backend relays (enrollment.proto: at most 4 KiB). */
export const MAX_SEALED_CREDENTIAL_REQUEST_BYTES = 4096;

/**
 * The suite of sealed calls and enrollment (RFC 9180): DHKEM(X25519, HKDF-SHA256) 0x0020,
 * HKDF-SHA256 0x0001, ChaCha20-Poly1305 0x0003.
 */
const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Chacha20Poly1305(),
});

const encoder = new TextEncoder();

/**
 * Seals CredentialCreationMaterial to the attested enclave key, exactly as enrollment.proto says:
 * HPKE base mode, single shot; pkR = the document's 32-byte `public_key`; info =
 * "vettid-enroll-finalize-v1"; aad = the enrollment session id; plaintext = the serialised
 * material. Returns `enc (32 bytes) ‖ ciphertext`. The serialised plaintext is wiped afterwards.
 *
 * @throws TypeError when the key is not 32 bytes or the material's session id differs.
 */
export async function sealCredentialMaterial(
  material: CredentialCreationMaterial,
  enclavePublicKey: Uint8Array,
  enrollmentSessionId: string,
): Promise<Uint8Array> {
  if (!(enclavePublicKey instanceof Uint8Array) || enclavePublicKey.length !== 32) {
    throw new TypeError(
      "the enclave key must be the raw 32-byte X25519 key from the attestation document",
    );
  }
  if (material.enrollmentSessionId !== enrollmentSessionId) {
    throw new TypeError("the material names another enrollment session");
  }
  const plaintext = toBinary(CredentialCreationMaterialSchema, material);
  try {
    const sender = await suite.createSenderContext({
      recipientPublicKey: await suite.kem.deserializePublicKey(enclavePublicKey),
      info: encoder.encode(ENROLL_FINALIZE_INFO),
    });
    const ciphertext = new Uint8Array(
      await sender.seal(plaintext, encoder.encode(enrollmentSessionId)),
    );
    const sealed = new Uint8Array(32 + ciphertext.length);
    sealed.set(new Uint8Array(sender.enc), 0);
    sealed.set(ciphertext, 32);
    return sealed;
  } finally {
    plaintext.fill(0);
  }
}
