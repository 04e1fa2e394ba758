import {
  GetPublicKeyCommand,
  type GetPublicKeyCommandOutput,
  type KMSClient,
  SignCommand,
  type SignCommandOutput,
} from "@aws-sdk/client-kms";
import { Code, ConnectError } from "@connectrpc/connect";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  derSignatureProblem,
  keyIdOfSpki,
  p256PointFromSpki,
  verifyP256Der,
} from "../../clients/sdk/voting/index.js";
import type { OrgSigner, SignerKey } from "./org-signer.js";

/** Options of {@link createKmsSigner}. */
export interface KmsSignerOptions {
  /** The KMS client (region, credentials; tests give it a recording `requestHandler`). */
  readonly client: KMSClient;
  /** The KMS key: id, ARN, alias name or alias ARN. */
  readonly keyId: string;
}

/**
 * The org (or subscription) signing key in AWS KMS: an asymmetric ECC_NIST_P256 key with key usage
 * SIGN_VERIFY, signing with ECDSA_SHA_256.
 *
 * - `GetPublicKey` once, checked (key spec, usage, algorithm, a P-256 SPKI); the key id is the
 *   SHA-256 of that SPKI.
 * - `Sign` with MessageType DIGEST: the SHA-256 of the message is computed here and sent, which
 *   gives the same signature as RAW (KMS hashes a RAW message with SHA-256) but has no 4 KiB
 *   message limit: a proposal's signed payload can be 80 KB. The message itself never leaves the
 *   backend, only its hash.
 * - The returned signature is checked before use: the algorithm KMS reports, strict DER, and that
 *   it verifies under the key (with high S allowed: KMS does not normalise S).
 *
 * KMS failures are `unavailable` (retry later); a key or answer that is not what it must be is
 * `internal` (a configuration error), with the SDK error as `cause`.
 */
export function createKmsSigner(options: KmsSignerOptions): OrgSigner {
  const { client, keyId } = options;
  if (typeof keyId !== "string" || keyId.length === 0)
    throw new TypeError("keyId must be a KMS key id, ARN or alias");
  let described: Promise<SignerKey & { point: Uint8Array }> | undefined;
  const describe = () => {
    described ??= fetchPublicKey(client, keyId).catch((error: unknown) => {
      described = undefined;
      throw error;
    });
    return described;
  };
  return {
    async describe() {
      const { keyId: id, spki } = await describe();
      return { keyId: id, spki };
    },
    async signMessage(message) {
      const key = await describe();
      let output: SignCommandOutput;
      try {
        output = await client.send(
          new SignCommand({
            KeyId: keyId,
            Message: sha256(message),
            MessageType: "DIGEST",
            SigningAlgorithm: "ECDSA_SHA_256",
          }),
        );
      } catch (error) {
        throw unavailable("Sign", error);
      }
      if (output.SigningAlgorithm !== "ECDSA_SHA_256") {
        throw misconfigured(
          `KMS Sign answered with algorithm ${String(output.SigningAlgorithm)}, not ECDSA_SHA_256`,
        );
      }
      const signature = output.Signature;
      if (!(signature instanceof Uint8Array))
        throw misconfigured("KMS Sign answered without a signature");
      const problem = derSignatureProblem(signature);
      if (problem !== undefined)
        throw misconfigured(`KMS Sign answered with a malformed signature: ${problem}`);
      if (!verifyP256Der(signature, message, key.point)) {
        throw misconfigured(
          "KMS Sign answered with a signature that does not verify under the key's public key",
        );
      }
      return new Uint8Array(signature);
    },
  };
}

async function fetchPublicKey(
  client: KMSClient,
  keyId: string,
): Promise<SignerKey & { point: Uint8Array }> {
  let output: GetPublicKeyCommandOutput;
  try {
    output = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  } catch (error) {
    throw unavailable("GetPublicKey", error);
  }
  if (output.KeySpec !== "ECC_NIST_P256") {
    throw misconfigured(
      `KMS key ${keyId} has key spec ${String(output.KeySpec)}, not ECC_NIST_P256`,
    );
  }
  if (output.KeyUsage !== "SIGN_VERIFY") {
    throw misconfigured(
      `KMS key ${keyId} has key usage ${String(output.KeyUsage)}, not SIGN_VERIFY`,
    );
  }
  if (!(output.SigningAlgorithms ?? []).includes("ECDSA_SHA_256")) {
    throw misconfigured(`KMS key ${keyId} does not sign with ECDSA_SHA_256`);
  }
  const spki = output.PublicKey;
  if (!(spki instanceof Uint8Array))
    throw misconfigured(`KMS key ${keyId}: no public key in the answer`);
  const parsed = p256PointFromSpki(spki);
  if (!parsed.ok) throw misconfigured(`KMS key ${keyId}: ${parsed.problem}`);
  const copy = new Uint8Array(spki);
  return { keyId: keyIdOfSpki(copy), spki: copy, point: parsed.point };
}

function unavailable(operation: string, cause: unknown): ConnectError {
  return new ConnectError(
    `signing is unavailable (KMS ${operation}); retry later`,
    Code.Unavailable,
    undefined,
    undefined,
    cause,
  );
}

function misconfigured(message: string): ConnectError {
  return new ConnectError(message, Code.Internal);
}
