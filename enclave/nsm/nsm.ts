/**
 * The NSM/KMS seam of the enclave: everything the vault code needs from the Nitro Security Module
 * and from KMS, behind one interface.
 *
 * Two implementations fit behind it:
 * - the dev NSM (`createDevNsm`), which issues documents in the real AWS format under a dev root
 *   and seals with a local key; it is what `npm start` and the tests use;
 * - the production adapter (not built yet), which maps each method onto the real device and KMS
 *   as each method's comment says. Nothing in this interface is specific to the dev NSM, so vault
 *   code written against it runs unchanged on Nitro.
 */

/** Which implementation an {@link Nsm} is: so start-up logs and health checks can say it aloud. */
export type NsmKind = "dev" | "nitro";

/**
 * What the enclave asks the NSM to bind into an attestation document. Each field is optional and
 * at most 1024 bytes ({@link MAX_ATTESTATION_FIELD_BYTES}); an absent field is CBOR null in the
 * document, as the real NSM writes it.
 */
export interface AttestRequest {
  /**
   * The enclave's public key, for clients to encrypt to: the raw 32-byte X25519 key of sealed
   * calls, or the DER SubjectPublicKeyInfo of the RSA key a KMS Decrypt answers to.
   */
  readonly publicKey?: Uint8Array;
  /** Application data to bind (for example a hash of the enclave's configuration). */
  readonly userData?: Uint8Array;
  /** The client's challenge, echoed so the client knows the document is fresh. */
  readonly nonce?: Uint8Array;
}

/**
 * The context a sealed blob is bound to, as string pairs: for example
 * `{ owner_guid: "3f2b8c1e-…", purpose: "vault-material" }`. Unsealing needs the very same pairs
 * (the order of keys does not matter). It has KMS's EncryptionContext shape so that the production
 * adapter passes it to KMS as it is (vsock `EncryptionContextEntry`); like an EncryptionContext it
 * is authenticated, not secret, and appears in audit logs (CloudTrail), so it must never hold
 * secrets. At least one pair is required.
 */
export type SealContext = Readonly<Record<string, string>>;

/** One Platform Configuration Register. */
export interface PcrValue {
  /** PCR index, 0–15. */
  readonly index: number;
  /** The 48-byte SHA-384 measurement. */
  readonly value: Uint8Array;
  /** Whether the register is locked (read-only). PCRs 0–15 always are on Nitro, and so in dev. */
  readonly locked: boolean;
}

/** The PCRs the NSM would put into an attestation document, for logs and PCR-set tooling. */
export interface PcrDescription {
  /** The digest the values were computed with; always "SHA384". */
  readonly digest: "SHA384";
  /** True when PCR0, PCR1 and PCR2 are all zeros: the enclave runs in debug mode. */
  readonly debug: boolean;
  /** PCRs 0–15, in index order. */
  readonly pcrs: readonly PcrValue[];
}

/**
 * The Nitro Security Module and the KMS sealing that depends on it, as the enclave sees them.
 *
 * Every method may reject with an {@link NsmError}; the dev NSM never reports `unavailable`.
 */
export interface Nsm {
  /** Which implementation this is. */
  readonly kind: NsmKind;

  /**
   * Asks the NSM for an attestation document binding `request`, and returns its raw bytes: an
   * untagged COSE_Sign1 (ES384) whose payload is the CBOR map AWS documents. The bytes are meant
   * to be handed to clients and to KMS as they are; nothing here decodes them.
   *
   * Production: the NSM `Attestation { user_data, nonce, public_key }` request on `/dev/nsm`
   * (aws-nitro-enclaves-nsm-api); its `document` is returned untouched.
   *
   * @throws NsmError `invalid_argument` when a field is over 1024 bytes.
   */
  attest(request?: AttestRequest): Promise<Uint8Array>;

  /**
   * The PCRs this enclave's documents carry (indexes 0–15).
   *
   * Production: `DescribePCR { index }` for each index, returning `{ lock, data }`; debug mode is
   * read from PCR0–2 being zero, as verifiers read it.
   */
  describePcrs(): Promise<PcrDescription>;

  /**
   * Seals per-vault material so that only an enclave running the attested code can unseal it,
   * bound to `context`. The blob may be stored anywhere untrusted (S3).
   *
   * Production (envelope, so the parent never sees the plaintext): a vsock
   * `KmsGenerateDataKeyRequest { key_spec: AES_256, encryption_context: context,
   * attestation_document: attest({ publicKey: <fresh RSA key> }) }` (proto/vettid/vsock/v1/kms.proto)
   * that the parent forwards to KMS; the data key comes back as `ciphertext_for_recipient` (CMS
   * EnvelopedData to that RSA key, opened inside the enclave), the plaintext is encrypted under it
   * with an AEAD whose associated data binds `context`, and the blob is KMS's `ciphertext_blob`
   * followed by that AEAD ciphertext. The data key is wiped after use.
   *
   * @throws NsmError `invalid_argument` for an empty or malformed context, or a plaintext over
   *   {@link MAX_SEAL_PLAINTEXT_BYTES}.
   */
  seal(plaintext: Uint8Array, context: SealContext): Promise<Uint8Array>;

  /**
   * Opens a blob made by {@link Nsm.seal} with the same `context`.
   *
   * Production: a vsock `KmsDecryptRequest { ciphertext_blob, encryption_context: context,
   * attestation_document: attest({ publicKey: <fresh RSA key> }), key_encryption_algorithm:
   * RSAES_OAEP_SHA_256 }`. KMS checks its key policy's `kms:RecipientAttestation:PCR*` /
   * `ImageSha384` conditions against the document and answers with `ciphertext_for_recipient`,
   * which only the enclave can open; the data key then opens the AEAD part. KMS rejecting the
   * blob or context (`ERROR_CODE_KMS_REJECTED`) or the AEAD failing becomes `unseal_failed`; KMS
   * or the parent not answering becomes `unavailable`.
   *
   * @throws NsmError `unseal_failed` when the blob was altered, was sealed under another context
   *   or key, or is not a sealed blob.
   */
  unseal(sealed: Uint8Array, context: SealContext): Promise<Uint8Array>;
}
