import { createPrivateKey, createPublicKey, KeyObject, X509Certificate } from "node:crypto";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { NsmError } from "./nsm-error.js";
import {
  type CertificateName,
  generateP384KeyPair,
  issueCertificate,
  P384_KEY_ALGORITHM,
} from "./x509-issuer.js";

/**
 * How long a dev root is valid: ten years, so a root that a developer or a test configuration
 * pins does not expire under them. It never leaves development, where its lifetime protects nothing.
 */
export const DEFAULT_DEV_ROOT_VALIDITY_MS = 10 * 365 * 24 * 3600_000;

/** How far a new dev root's validity starts in the past: a day, for clients whose clock runs behind. */
export const DEV_ROOT_BACKDATE_MS = 24 * 3600_000;

/** The dev root's name. It says what it is, so nobody mistakes a dev document for a Nitro one. */
export const DEV_ROOT_NAME: CertificateName = {
  country: "US",
  organization: "VettID (development)",
  organizationalUnit: "Dev NSM - not for production",
  commonName: "VettID dev NSM root",
};

/** The root a dev NSM's certificate chains end at. */
export interface DevRoot {
  /** The self-signed root certificate, DER. */
  readonly certificate: Uint8Array;
  /** Its P-384 private key (extractable, so the root can be saved and shared). */
  readonly privateKey: CryptoKey;
}

/** A dev root as PEM text: what a state directory holds, and what another dev NSM can be given. */
export interface DevRootPem {
  /** The root certificate, PEM (`-----BEGIN CERTIFICATE-----`). */
  readonly certificatePem: string;
  /** Its private key, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  readonly privateKeyPem: string;
}

/** The public half of a dev root: what clients pin when told to accept dev documents. */
export interface DevRootCertificate {
  /** PEM text of the certificate. */
  readonly pem: string;
  /** DER bytes of the certificate. */
  readonly der: Uint8Array;
  /** SHA-256 of the DER bytes, lowercase hex: the value to pin, as the AWS root is pinned. */
  readonly fingerprintSha256: string;
}

/** Makes a new self-signed dev root (P-384, CA, valid {@link DEFAULT_DEV_ROOT_VALIDITY_MS}). */
export async function createDevRoot(nowMs: number): Promise<DevRoot> {
  const keys = await generateP384KeyPair(true);
  const certificate = await issueCertificate({
    subject: DEV_ROOT_NAME,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    notBefore: new Date(nowMs - DEV_ROOT_BACKDATE_MS),
    notAfter: new Date(nowMs + DEFAULT_DEV_ROOT_VALIDITY_MS),
    ca: {},
  });
  return { certificate, privateKey: keys.privateKey };
}

/**
 * Reads a dev root from PEM, checking that the certificate is a P-384 CA and that the private key
 * is its key.
 *
 * @throws NsmError `state_invalid` naming what is wrong.
 */
export async function devRootFromPem(pem: DevRootPem): Promise<DevRoot> {
  let certificate: X509Certificate;
  let privateKey: KeyObject;
  try {
    certificate = new X509Certificate(pem.certificatePem);
  } catch (cause) {
    throw new NsmError("state_invalid", "dev root certificate is not a PEM X.509 certificate", {
      cause,
    });
  }
  try {
    privateKey = createPrivateKey(pem.privateKeyPem);
  } catch (cause) {
    throw new NsmError("state_invalid", "dev root private key is not a PEM private key", { cause });
  }
  if (!certificate.ca) {
    throw new NsmError("state_invalid", "dev root certificate is not a CA certificate");
  }
  if (privateKey.asymmetricKeyDetails?.namedCurve !== "secp384r1") {
    throw new NsmError("state_invalid", "dev root private key is not an ECDSA P-384 key");
  }
  const certifiedKey = certificate.publicKey.export({ type: "spki", format: "der" });
  const heldKey = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  if (!certifiedKey.equals(heldKey)) {
    throw new NsmError("state_invalid", "dev root private key does not belong to its certificate");
  }
  const cryptoKey = await crypto.subtle.importKey(
    "pkcs8",
    privateKey.export({ type: "pkcs8", format: "der" }),
    P384_KEY_ALGORITHM,
    true,
    ["sign"],
  );
  return { certificate: new Uint8Array(certificate.raw), privateKey: cryptoKey };
}

/** Writes a dev root as PEM (certificate and PKCS#8 private key). */
export function devRootToPem(root: DevRoot): DevRootPem {
  return {
    certificatePem: new X509Certificate(root.certificate).toString(),
    privateKeyPem: KeyObject.from(root.privateKey)
      .export({ type: "pkcs8", format: "pem" })
      .toString(),
  };
}

/** The public half of `root`, with the fingerprint clients pin. */
export function devRootCertificate(root: DevRoot): DevRootCertificate {
  return {
    pem: new X509Certificate(root.certificate).toString(),
    der: root.certificate.slice(),
    fingerprintSha256: certificateFingerprint(root.certificate),
  };
}

/** SHA-256 of a DER certificate, lowercase hex without separators. */
export function certificateFingerprint(der: Uint8Array): string {
  return bytesToHex(sha256(der));
}
