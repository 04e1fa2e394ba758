import {
  type TrustRoot,
  VerificationFailure,
} from "../../../gen/vettid/attestation/v1/document_pb.js";
import type { AttestationPayload } from "./attestation-payload.js";
import { type ParsedCertificate, parseCertificate } from "./certificate.js";
import { type Checked, errorMessage, failed, passed } from "./check-result.js";
import { DEV_NSM_ROOT_COMMON_NAME, type PinnedRoot } from "./trust-roots.js";

/** The roots a chain may end at, as resolved from the verifier's options. */
export interface ChainTrust {
  /** Roots accepted: the AWS Nitro root G1, and the dev root when dev documents are allowed. */
  readonly roots: readonly PinnedRoot[];
  /**
   * Whether dev documents are allowed. When they are not, a chain ending at a dev NSM root (the
   * pinned one, or any named as the dev NSM names its roots) fails `DEV_ROOT_NOT_ALLOWED` rather
   * than `UNTRUSTED_ROOT`.
   */
  readonly devAllowed: boolean;
  /** The dev root the verifier was given, allowed or not. */
  readonly devRootSha256: string | undefined;
}

/** A chain that verified: the root it ends at, and its leaf. */
export interface VerifiedChain {
  /** The root the chain ends at. */
  readonly trustRoot: TrustRoot;
  /** The leaf certificate, whose key signs the document. */
  readonly leaf: ParsedCertificate;
}

/**
 * Verifies `cabundle` (root first) and the leaf as one path, root → intermediates → leaf, in the
 * order of the `VerificationFailure` values:
 * - `MALFORMED_CERTIFICATE`: each certificate parses (see {@link parseCertificate});
 * - `UNTRUSTED_ROOT` / `DEV_ROOT_NOT_ALLOWED`: `cabundle[0]`'s SHA-256 is a pinned root's;
 * - `CHAIN`: the root signs itself; each certificate is issued by the one before it (names, key
 *   identifiers) and its signature verifies under that one's key; every issuer is a CA with
 *   `keyCertSign` whose path length constraint allows the CAs below it; the leaf is not a CA and
 *   has `digitalSignature`; no certificate has a critical extension this check does not process;
 * - `CERTIFICATE_EXPIRED`, then `CERTIFICATE_NOT_YET_VALID`: each certificate, the root included,
 *   is valid at `atMs`. A certificate whose validity starts up to `notBeforeToleranceMs` after
 *   `atMs` counts as valid (a client clock a little behind AWS's; Nitro leaves start ~3 s before
 *   the document). Expiry has no tolerance.
 * Never throws.
 */
export function verifyCertificateChain(
  payload: AttestationPayload,
  trust: ChainTrust,
  atMs: number,
  notBeforeToleranceMs: number,
): Checked<VerifiedChain> {
  const chain: ParsedCertificate[] = [];
  for (const [index, der] of [...payload.cabundle, payload.certificate].entries()) {
    const name = index < payload.cabundle.length ? `cabundle[${index}]` : "certificate";
    const parsed = parseCertificate(der, name);
    if (!parsed.ok) return parsed;
    chain.push(parsed.value);
  }
  const root = chain[0] as ParsedCertificate;
  const leaf = chain[chain.length - 1] as ParsedCertificate;

  const pinned = trust.roots.find((pin) => pin.fingerprintSha256 === root.fingerprintSha256);
  if (pinned === undefined) {
    const looksDev =
      !trust.devAllowed &&
      (root.fingerprintSha256 === trust.devRootSha256 ||
        root.commonName === DEV_NSM_ROOT_COMMON_NAME);
    return looksDev
      ? failed(
          VerificationFailure.DEV_ROOT_NOT_ALLOWED,
          `cabundle[0] is a dev NSM root (SHA-256 ${root.fingerprintSha256}); dev documents are not allowed`,
        )
      : failed(
          VerificationFailure.UNTRUSTED_ROOT,
          `cabundle[0] (SHA-256 ${root.fingerprintSha256}, CN ${String(root.commonName)}) is not a pinned root`,
        );
  }

  const links = checkLinks(chain);
  if (!links.ok) return links;

  for (const certificate of chain) {
    if (atMs > certificate.notAfterMs) {
      return failed(
        VerificationFailure.CERTIFICATE_EXPIRED,
        `${certificate.name} expired at ${iso(certificate.notAfterMs)}; verifying at ${iso(atMs)}`,
      );
    }
  }
  for (const certificate of chain) {
    if (atMs < certificate.notBeforeMs - notBeforeToleranceMs) {
      return failed(
        VerificationFailure.CERTIFICATE_NOT_YET_VALID,
        `${certificate.name} is valid from ${iso(certificate.notBeforeMs)}; verifying at ${iso(atMs)}`,
      );
    }
  }
  return passed({ trustRoot: pinned.trustRoot, leaf });
}

/** The `CHAIN` checks: signatures, issuer relation, CA constraints, key usage. */
function checkLinks(chain: readonly ParsedCertificate[]): Checked<void> {
  const root = chain[0] as ParsedCertificate;
  const leafIndex = chain.length - 1;
  for (const [index, certificate] of chain.entries()) {
    const unknown = certificate.unknownCriticalExtensions;
    if (unknown.length > 0) {
      return broken(
        `${certificate.name} has unprocessed critical extensions ${unknown.join(", ")}`,
      );
    }
    if (index === leafIndex) {
      if (certificate.ca) return broken(`${certificate.name} (the leaf) is a CA`);
      if (certificate.keyUsage?.digitalSignature !== true) {
        return broken(`${certificate.name} (the leaf) lacks the digitalSignature key usage`);
      }
    } else {
      if (!certificate.ca)
        return broken(`${certificate.name} issues a certificate but is not a CA`);
      if (certificate.keyUsage?.keyCertSign !== true) {
        return broken(`${certificate.name} issues a certificate but lacks keyCertSign`);
      }
      // The CAs below this one, not counting the leaf (RFC 5280 §4.2.1.9).
      const casBelow = leafIndex - 1 - index;
      if (certificate.pathLength !== undefined && casBelow > certificate.pathLength) {
        return broken(
          `${certificate.name} allows ${certificate.pathLength} CAs below it; the chain has ${casBelow}`,
        );
      }
    }
    const issuer = index === 0 ? root : (chain[index - 1] as ParsedCertificate);
    try {
      if (!certificate.x509.checkIssued(issuer.x509)) {
        return broken(`${certificate.name} is not issued by ${issuer.name}`);
      }
      if (!certificate.x509.verify(issuer.x509.publicKey)) {
        return broken(`${certificate.name}'s signature does not verify under ${issuer.name}'s key`);
      }
    } catch (error) {
      return broken(
        `${certificate.name} cannot be checked against ${issuer.name}: ${errorMessage(error)}`,
      );
    }
  }
  return passed(undefined);
}

function broken(detail: string): Checked<never> {
  return failed(VerificationFailure.CHAIN, detail);
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
