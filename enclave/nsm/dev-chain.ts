import type { DevRoot } from "./dev-root.js";
import { DEV_ROOT_NAME } from "./dev-root.js";
import { generateP384KeyPair, issueCertificate } from "./x509-issuer.js";

/**
 * How long a dev leaf certificate is valid: three hours, like the leaves the Nitro NSM issues, so
 * that verifiers meet short-lived leaves in development as they will in production.
 */
export const DEFAULT_LEAF_VALIDITY_MS = 3 * 3600_000;

/**
 * How much validity a leaf must have left to sign another document; below it a new chain is
 * issued. Two hours: a document is still verifiable for at least that long after it was made.
 */
export const DEFAULT_LEAF_MIN_REMAINING_MS = 2 * 3600_000;

/** How long the dev intermediates are valid: a day, like Nitro's per-instance CA. */
export const DEFAULT_INTERMEDIATE_VALIDITY_MS = 24 * 3600_000;

/**
 * How far the validity of new intermediates and leaves starts before the moment they are issued:
 * a minute, so that a document is never older than its leaf when clocks differ by a little.
 */
export const CERTIFICATE_BACKDATE_MS = 60_000;

/** A signing chain below the dev root: what one attestation document carries and is signed with. */
export interface DevSigningChain {
  /** `cabundle`: root first, then the regional and the instance CA (the leaf's issuer) last. */
  readonly cabundle: readonly Uint8Array[];
  /** The leaf certificate, DER. */
  readonly certificate: Uint8Array;
  /** The leaf's private key (not extractable): signs documents. */
  readonly signingKey: CryptoKey;
  /** Start of the leaf's validity, in ms since the epoch (whole seconds). */
  readonly notBeforeMs: number;
  /** End of the leaf's validity, in ms since the epoch (whole seconds). */
  readonly notAfterMs: number;
}

/** Options of {@link issueDevChain}. */
export interface IssueDevChainOptions {
  /** The moment of issue, in ms since the epoch. */
  readonly nowMs: number;
  /** The module id the leaf is named after, as Nitro names leaves after the enclave. */
  readonly moduleId: string;
  /** See {@link DEFAULT_LEAF_VALIDITY_MS}. */
  readonly leafValidityMs?: number;
}

/**
 * Issues root → regional CA (path length 1) → instance CA (path length 0) → leaf, the shape of
 * Nitro's chains (which have one more zonal CA), with fresh P-384 keys below the root. Both
 * intermediates are issued anew with every leaf, so none outlives the leaves it signs by much.
 */
export async function issueDevChain(
  root: DevRoot,
  options: IssueDevChainOptions,
): Promise<DevSigningChain> {
  const notBefore = new Date(options.nowMs - CERTIFICATE_BACKDATE_MS);
  const intermediateNotAfter = new Date(options.nowMs + DEFAULT_INTERMEDIATE_VALIDITY_MS);
  const name = (commonName: string) => ({ ...DEV_ROOT_NAME, commonName });

  const regionalKeys = await generateP384KeyPair(false);
  const regional = await issueCertificate({
    subject: name("VettID dev NSM regional CA"),
    publicKey: regionalKeys.publicKey,
    issuerCertificate: root.certificate,
    signingKey: root.privateKey,
    notBefore,
    notAfter: intermediateNotAfter,
    ca: { pathLength: 1 },
  });
  const instanceKeys = await generateP384KeyPair(false);
  const instance = await issueCertificate({
    subject: name("VettID dev NSM instance CA"),
    publicKey: instanceKeys.publicKey,
    issuerCertificate: regional,
    signingKey: regionalKeys.privateKey,
    notBefore,
    notAfter: intermediateNotAfter,
    ca: { pathLength: 0 },
  });
  const leafKeys = await generateP384KeyPair(false);
  const leafNotAfter = new Date(
    options.nowMs + (options.leafValidityMs ?? DEFAULT_LEAF_VALIDITY_MS),
  );
  const leaf = await issueCertificate({
    subject: name(`${options.moduleId}.dev-nsm`),
    publicKey: leafKeys.publicKey,
    issuerCertificate: instance,
    signingKey: instanceKeys.privateKey,
    notBefore,
    notAfter: leafNotAfter > intermediateNotAfter ? intermediateNotAfter : leafNotAfter,
    ca: false,
  });
  return {
    cabundle: [root.certificate.slice(), regional, instance],
    certificate: leaf,
    signingKey: leafKeys.privateKey,
    notBeforeMs: Math.floor(notBefore.getTime() / 1000) * 1000,
    notAfterMs:
      Math.floor(Math.min(leafNotAfter.getTime(), intermediateNotAfter.getTime()) / 1000) * 1000,
  };
}
