import { X509Certificate } from "node:crypto";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import * as asn1js from "asn1js";
import { BasicConstraints, Certificate } from "pkijs";
import { VerificationFailure } from "../../../gen/vettid/attestation/v1/document_pb.js";
import { type Checked, errorMessage, failed, passed } from "./check-result.js";

/**
 * The extensions the chain check processes (any other one marked critical makes a certificate
 * unusable, RFC 5280 §4.2), and the attribute that names a subject.
 */
const OID = {
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  commonName: "2.5.4.3",
} as const;

/** KeyUsage bits in the first byte of the BIT STRING (RFC 5280 §4.2.1.3). */
const KEY_USAGE_DIGITAL_SIGNATURE = 0x80;
const KEY_USAGE_KEY_CERT_SIGN = 0x04;

/** What the chain check needs from one certificate, read once. */
export interface ParsedCertificate {
  /** Where it is in the document, for failure details: `cabundle[0]`, `certificate`. */
  readonly name: string;
  /** The DER bytes, exactly as the document holds them. */
  readonly der: Uint8Array;
  /** SHA-256 of {@link der}, lowercase hex: what roots are pinned by. */
  readonly fingerprintSha256: string;
  /** OpenSSL's view of it, for signature checks and the issuer relation. */
  readonly x509: X509Certificate;
  /** The subject's common name, if it has one. */
  readonly commonName: string | undefined;
  /** Validity, in ms since the epoch. */
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** Basic constraints: a CA, and its path length constraint (undefined = none). */
  readonly ca: boolean;
  readonly pathLength: number | undefined;
  /** Key usage bits, or undefined when the extension is absent (no restriction). */
  readonly keyUsage:
    | { readonly digitalSignature: boolean; readonly keyCertSign: boolean }
    | undefined;
  /** OIDs of critical extensions the chain check does not process. */
  readonly unknownCriticalExtensions: readonly string[];
}

/**
 * Parses one DER certificate with OpenSSL (`node:crypto`) and pkijs. Fails
 * `MALFORMED_CERTIFICATE` when either refuses it, when the DER has bytes after the certificate or
 * is PEM, when an extension appears twice, or when basic constraints or key usage cannot be read.
 * Never throws.
 */
export function parseCertificate(der: Uint8Array, name: string): Checked<ParsedCertificate> {
  let x509: X509Certificate;
  let certificate: Certificate;
  try {
    x509 = new X509Certificate(der);
    certificate = Certificate.fromBER(new Uint8Array(der));
  } catch (error) {
    return malformed(`${name} is not a DER X.509 certificate: ${errorMessage(error)}`);
  }
  if (x509.raw.length !== der.length) {
    return malformed(`${name} is not exactly one DER certificate (${der.length} bytes given)`);
  }

  let ca = false;
  let pathLength: number | undefined;
  let keyUsage: ParsedCertificate["keyUsage"];
  const unknownCriticalExtensions: string[] = [];
  const seen = new Set<string>();
  for (const extension of certificate.extensions ?? []) {
    if (seen.has(extension.extnID)) {
      return malformed(`${name} has extension ${extension.extnID} twice`);
    }
    seen.add(extension.extnID);
    const value = extension.extnValue.valueBlock.valueHexView;
    if (extension.extnID === OID.basicConstraints) {
      const constraints = readBasicConstraints(value);
      if (constraints === undefined) return malformed(`${name} has unreadable basic constraints`);
      ({ ca, pathLength } = constraints);
    } else if (extension.extnID === OID.keyUsage) {
      keyUsage = readKeyUsage(value);
      if (keyUsage === undefined) return malformed(`${name} has an unreadable key usage`);
    } else if (extension.critical) {
      unknownCriticalExtensions.push(extension.extnID);
    }
  }

  const commonName = certificate.subject.typesAndValues.find((part) => part.type === OID.commonName)
    ?.value.valueBlock.value;
  return passed({
    name,
    der,
    fingerprintSha256: bytesToHex(sha256(der)),
    x509,
    commonName: typeof commonName === "string" ? commonName : undefined,
    notBeforeMs: certificate.notBefore.value.getTime(),
    notAfterMs: certificate.notAfter.value.getTime(),
    ca,
    pathLength,
    keyUsage,
    unknownCriticalExtensions,
  });
}

function readBasicConstraints(
  value: Uint8Array,
): { ca: boolean; pathLength: number | undefined } | undefined {
  try {
    const asn1 = asn1js.fromBER(value);
    if (asn1.offset === -1) return undefined;
    const constraints = new BasicConstraints({ schema: asn1.result });
    const limit = constraints.pathLenConstraint;
    const ca = constraints.cA === true;
    if (limit === undefined) return { ca, pathLength: undefined };
    const pathLength = typeof limit === "number" ? limit : limit.valueBlock.valueDec;
    if (!Number.isSafeInteger(pathLength) || pathLength < 0) return undefined;
    return { ca, pathLength };
  } catch {
    return undefined;
  }
}

function readKeyUsage(value: Uint8Array): ParsedCertificate["keyUsage"] {
  try {
    const asn1 = asn1js.fromBER(value);
    if (asn1.offset === -1 || !(asn1.result instanceof asn1js.BitString)) return undefined;
    const first = asn1.result.valueBlock.valueHexView[0] ?? 0;
    return {
      digitalSignature: (first & KEY_USAGE_DIGITAL_SIGNATURE) !== 0,
      keyCertSign: (first & KEY_USAGE_KEY_CERT_SIGN) !== 0,
    };
  } catch {
    return undefined;
  }
}

function malformed(detail: string): Checked<never> {
  return failed(VerificationFailure.MALFORMED_CERTIFICATE, detail);
}
