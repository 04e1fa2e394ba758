import { create } from "@bufbuild/protobuf";
import { type Client, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { createUser } from "@nats-io/nkeys";
import { equalBytes } from "@noble/curves/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { DeviceProofPurpose } from "../../../gen/vettid/enrollment/v1/device_pb.js";
import {
  CredentialCreationMaterialSchema,
  EnrollmentService,
  type VaultInfo,
} from "../../../gen/vettid/enrollment/v1/enrollment_pb.js";
import type { NatsCredentials } from "../../../gen/vettid/enrollment/v1/nats_credentials_pb.js";
import type {
  Argon2idParameters,
  ProteanCredential,
} from "../../../gen/vettid/vault/v1/credential_pb.js";
import {
  type AttestationTrustStore,
  VerificationFailure,
  verifyAttestation,
} from "../attestation/index.js";
import type { MemberStore } from "../member/member-store.js";
import { createArgon2idParameters } from "../password/argon2id-parameters.js";
import { hashPassword } from "../password/hash-password.js";
import { credentialProblem } from "../storage/credential-store.js";
import {
  createDeviceProof,
  type DeviceAttester,
  type DeviceKey,
  devUnattested,
  softwareDeviceKey,
} from "./device-key.js";
import {
  MAX_SEALED_CREDENTIAL_REQUEST_BYTES,
  sealCredentialMaterial,
} from "./seal-credential-material.js";

/** The steps of {@link enroll}, in order, for progress display. */
export const ENROLL_STEPS = [
  "open an enrollment session",
  "verify the enclave's attestation",
  "hash the password (Argon2id)",
  "create the vault and credential",
  "store the credential",
  "get NATS credentials",
  "store the NATS credentials",
] as const;

/** One of {@link ENROLL_STEPS}. */
export type EnrollStep = (typeof ENROLL_STEPS)[number];

/** Why enrollment stopped, when it is not an error from the backend. */
export class EnrollmentError extends Error {
  override readonly name = "EnrollmentError";
  constructor(
    message: string,
    /** The attestation check that failed, when the enclave's document was refused. */
    readonly attestationFailure?: VerificationFailure,
  ) {
    super(message);
  }
}

/** Options of {@link enroll}. */
export interface EnrollOptions {
  /** The backend's base URL (`https://api.vettid.dev`), for the Connect protocol over HTTP. */
  readonly baseUrl?: string;
  /** A Connect transport to the backend instead of `baseUrl` (tests, custom TLS). */
  readonly transport?: Transport;
  /** The invitation code the member received. */
  readonly invitationCode: string;
  /** The credential password the member chose. Hashed on the device; never sent. */
  readonly password: string;
  /** Where the credential, NATS credentials and keys go. */
  readonly member: MemberStore;
  /**
   * What the app trusts: the accepted PCR sets bundled with the app (or a verified signed list),
   * and, in development only, the dev NSM root. Enrollment always checks the nonce, a fresh
   * document and its public key.
   */
  readonly trust: AttestationTrustStore;
  /** The device key. Default: a software key, made once and kept in `member` (Node only). */
  readonly deviceKey?: DeviceKey;
  /** The platform attestation of the device key. Default {@link devUnattested} (development backends). */
  readonly attestDevice?: DeviceAttester;
  /** Argon2id parameters for the new password. Default: a fresh salt and the SDK's defaults. */
  readonly passwordParameters?: Argon2idParameters;
  /** Called as each step starts. */
  readonly onStep?: (step: EnrollStep, index: number) => void;
  /** Called while hashing, with the fraction done. */
  readonly onHashProgress?: (fraction: number) => void;
  /** Clock for attestation and device proofs, ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/** What enrollment produced (everything is also stored in `member`). */
export interface Enrollment {
  readonly ownerGuid: string;
  readonly credential: ProteanCredential;
  readonly natsCredentials: NatsCredentials;
  readonly vault: VaultInfo | undefined;
}

/**
 * Enrolls a new member, following enrollment.proto step by step:
 * 1. EnrollStart(invitation code, device attestation) → session, attestation document, nonce;
 * 2. verify the document (pinned root, accepted PCRs, no debug, `nonce` = the session's, fresh,
 *    with a `public_key`) and take the enclave's X25519 key from it;
 * 3. hash the password (Argon2id), build CredentialCreationMaterial and seal it to that key
 *    ("vettid-enroll-finalize-v1", aad = session id);
 * 4. EnrollFinalize(session, device proof over SHA-256(sealed), sealed) → owner guid, credential;
 * 5. store the credential before anything else;
 * 6. make a NATS user nkey; NatsBootstrap(session, public nkey, device proof) → user JWT;
 * 7. store the seed, the JWT and the owner guid.
 * The vault then needs a PIN (PinService.SetupPin) over NATS: see `openVaultSession`.
 *
 * @throws EnrollmentError when the enclave's attestation is refused or an answer is malformed;
 *   ConnectError for the backend's own errors (`not_found` for a bad invitation code, …).
 */
export async function enroll(options: EnrollOptions): Promise<Enrollment> {
  const now = options.now ?? Date.now;
  const step = (index: number) => options.onStep?.(ENROLL_STEPS[index] as EnrollStep, index);
  const client: Client<typeof EnrollmentService> = createClient(
    EnrollmentService,
    options.transport ?? connectTransport(options.baseUrl),
  );
  const deviceKey = options.deviceKey ?? (await storedSoftwareDeviceKey(options.member));

  step(0);
  const started = await client.enrollStart({
    invitationCode: options.invitationCode,
    deviceAttestation: await (options.attestDevice ?? devUnattested)(deviceKey.publicKey),
  });
  const sessionId = started.enrollmentSessionId;
  if (!/^[0-9a-f-]{36}$/.test(sessionId))
    throw new EnrollmentError("the backend sent a malformed session id");
  if (started.attestationNonce.length !== 32)
    throw new EnrollmentError("the backend sent a nonce that is not 32 bytes");

  step(1);
  const verified = verifyAttestation(started.attestationDocument, {
    ...options.trust,
    at: now(),
    expectedNonce: started.attestationNonce,
    requirePublicKey: true,
  });
  if (!verified.valid) {
    throw new EnrollmentError(
      `the enclave's attestation was refused: ${VerificationFailure[verified.failure]} (${verified.detail})`,
      verified.failure,
    );
  }
  const enclaveKey = verified.document.publicKey;
  if (enclaveKey === undefined || enclaveKey.length !== 32)
    throw new EnrollmentError("the attested public_key is not a 32-byte X25519 key");

  step(2);
  const parameters = options.passwordParameters ?? createArgon2idParameters();
  const passwordHash = await hashPassword(
    options.password,
    parameters,
    options.onHashProgress === undefined ? {} : { onProgress: options.onHashProgress },
  );
  let sealed: Uint8Array;
  try {
    sealed = await sealCredentialMaterial(
      create(CredentialCreationMaterialSchema, {
        enrollmentSessionId: sessionId,
        attestationNonce: started.attestationNonce,
        passwordHash,
        passwordParameters: parameters,
      }),
      enclaveKey,
      sessionId,
    );
  } finally {
    passwordHash.fill(0);
  }
  if (sealed.length > MAX_SEALED_CREDENTIAL_REQUEST_BYTES)
    throw new EnrollmentError("the sealed material is over 4 KiB");

  step(3);
  const finalized = await client.enrollFinalize({
    enrollmentSessionId: sessionId,
    deviceProof: await createDeviceProof(deviceKey, {
      purpose: DeviceProofPurpose.ENROLL_FINALIZE,
      subjectId: sessionId,
      requestDigest: sha256(sealed),
      nowMs: now(),
    }),
    sealedCredentialRequest: sealed,
  });
  const credential = finalized.credential;
  const problem = credential === undefined ? "no credential" : credentialProblem(credential);
  if (credential === undefined || problem !== undefined) {
    throw new EnrollmentError(`the backend sent an unusable credential: ${problem}`);
  }

  step(4);
  await options.member.credentials.save(credential);

  step(5);
  const nkey = createUser();
  const nkeyPublic = nkey.getPublicKey();
  const bootstrap = await client.natsBootstrap({
    enrollmentSessionId: sessionId,
    userNkeyPublic: nkeyPublic,
    deviceProof: await createDeviceProof(deviceKey, {
      purpose: DeviceProofPurpose.NATS_BOOTSTRAP,
      subjectId: sessionId,
      requestDigest: sha256(new TextEncoder().encode(nkeyPublic)),
      nowMs: now(),
    }),
  });
  const natsCredentials = bootstrap.credentials;
  if (natsCredentials === undefined || natsCredentials.userJwt === "") {
    throw new EnrollmentError("the backend sent no NATS credentials");
  }
  if (natsCredentials.userNkeyPublic !== nkeyPublic) {
    throw new EnrollmentError("the NATS credentials are for another nkey than this device's");
  }
  if (bootstrap.ownerGuid !== finalized.ownerGuid)
    throw new EnrollmentError("the backend named two owner guids");

  step(6);
  const seed = nkey.getSeed();
  try {
    await options.member.saveEnrollment({
      ownerGuid: finalized.ownerGuid,
      natsCredentials,
      nkeySeed: seed,
    });
  } finally {
    seed.fill(0);
  }
  return { ownerGuid: finalized.ownerGuid, credential, natsCredentials, vault: finalized.vault };
}

function connectTransport(baseUrl: string | undefined): Transport {
  if (baseUrl === undefined)
    throw new TypeError("enroll needs the backend's baseUrl (or a transport)");
  return createConnectTransport({ baseUrl, httpVersion: "1.1" });
}

/** The software device key kept in the member's storage, made on first use. */
async function storedSoftwareDeviceKey(member: MemberStore): Promise<DeviceKey> {
  const stored = await member.deviceKeySecret();
  if (stored !== undefined) return softwareDeviceKey(stored).key;
  const { key, secretKey } = softwareDeviceKey();
  await member.saveDeviceKeySecret(secretKey);
  // Read back: a key the storage did not keep would make the session's proofs unverifiable.
  const back = await member.deviceKeySecret();
  if (back === undefined || !equalBytes(back, secretKey))
    throw new EnrollmentError("the device key was not stored");
  return key;
}
