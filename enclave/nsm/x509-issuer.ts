import { sha1 } from "@noble/hashes/legacy.js";
import { randomBytes } from "@noble/hashes/utils.js";
import * as asn1js from "asn1js";
import {
  AttributeTypeAndValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  Extension,
  RelativeDistinguishedNames,
  Time,
  TimeType,
} from "pkijs";

/** Key generation parameters of every dev NSM key: ECDSA on P-384, as Nitro's certificates use. */
export const P384_KEY_ALGORITHM: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-384" };

/** Signature parameters of every dev NSM signature: ECDSA with SHA-384 (ecdsa-with-SHA384, ES384). */
export const P384_SIGNATURE_ALGORITHM: EcdsaParams = { name: "ECDSA", hash: "SHA-384" };

/** A distinguished name, as far as the dev NSM writes one. */
export interface CertificateName {
  readonly country?: string;
  readonly organization?: string;
  readonly organizationalUnit?: string;
  readonly commonName: string;
}

/** What {@link issueCertificate} writes. */
export interface IssueCertificateParams {
  readonly subject: CertificateName;
  /** The certified key (P-384). */
  readonly publicKey: CryptoKey;
  /** The issuer's certificate (DER); absent for a self-signed root. */
  readonly issuerCertificate?: Uint8Array;
  /** The issuer's private key; for a self-signed root, the subject's own. */
  readonly signingKey: CryptoKey;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** A CA certificate with its path length constraint (undefined = none), or an end-entity one. */
  readonly ca: { readonly pathLength?: number } | false;
}

const OID = {
  country: "2.5.4.6",
  organization: "2.5.4.10",
  organizationalUnit: "2.5.4.11",
  commonName: "2.5.4.3",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
} as const;

/** KeyUsage bits (RFC 5280 §4.2.1.3), as the first byte of the BIT STRING. */
const KEY_USAGE = { digitalSignature: 0x80, keyCertSign: 0x04, cRLSign: 0x02 } as const;

/**
 * Issues an X.509 v3 certificate (DER) with pkijs and WebCrypto, shaped like Nitro's: P-384 keys,
 * ecdsa-with-SHA384, critical basic constraints and key usage (CAs: certificate and CRL signing;
 * end entities: digital signature), subject and authority key identifiers so that platform
 * verifiers which build paths by key identifier (iOS, Android, OpenSSL) find the chain, and a
 * random positive 128-bit serial.
 */
export async function issueCertificate(params: IssueCertificateParams): Promise<Uint8Array> {
  const certificate = new Certificate();
  certificate.version = 2;
  certificate.serialNumber = new asn1js.Integer({ valueHex: positiveSerial() });
  certificate.subject = distinguishedName(params.subject);
  const ownKeyIdentifier = await keyIdentifier(params.publicKey);
  let authorityKeyId = ownKeyIdentifier;
  if (params.issuerCertificate === undefined) {
    certificate.issuer = distinguishedName(params.subject);
  } else {
    // The issuer name is copied from the issuer's certificate, never rebuilt: chain building
    // compares the two byte for byte.
    const issuer = Certificate.fromBER(new Uint8Array(params.issuerCertificate));
    certificate.issuer = issuer.subject;
    authorityKeyId = subjectKeyIdentifierOf(issuer);
  }
  certificate.notBefore = certificateTime(params.notBefore);
  certificate.notAfter = certificateTime(params.notAfter);
  await certificate.subjectPublicKeyInfo.importKey(params.publicKey);

  const basicConstraints =
    params.ca === false
      ? new BasicConstraints({ cA: false })
      : params.ca.pathLength === undefined
        ? new BasicConstraints({ cA: true })
        : new BasicConstraints({ cA: true, pathLenConstraint: params.ca.pathLength });
  const keyUsage =
    params.ca === false
      ? KEY_USAGE.digitalSignature
      : KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign | KEY_USAGE.digitalSignature;
  const authorityKeyIdentifier = new AuthorityKeyIdentifier({
    keyIdentifier: new asn1js.OctetString({ valueHex: authorityKeyId }),
  });
  certificate.extensions = [
    new Extension({
      extnID: OID.basicConstraints,
      critical: true,
      extnValue: basicConstraints.toSchema().toBER(false),
      parsedValue: basicConstraints,
    }),
    new Extension({
      extnID: OID.keyUsage,
      critical: true,
      extnValue: namedBits(keyUsage).toBER(false),
    }),
    new Extension({
      extnID: OID.subjectKeyIdentifier,
      extnValue: new asn1js.OctetString({ valueHex: ownKeyIdentifier }).toBER(false),
    }),
    new Extension({
      extnID: OID.authorityKeyIdentifier,
      extnValue: authorityKeyIdentifier.toSchema().toBER(false),
      parsedValue: authorityKeyIdentifier,
    }),
  ];

  await certificate.sign(params.signingKey, "SHA-384");
  return new Uint8Array(certificate.toSchema(true).toBER(false));
}

/** Generates a P-384 key pair; `extractable` only for a key that has to be saved (the dev root). */
export async function generateP384KeyPair(extractable: boolean): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(P384_KEY_ALGORITHM, extractable, ["sign", "verify"]);
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (the uncompressed point). */
async function keyIdentifier(publicKey: CryptoKey): Promise<Uint8Array> {
  return sha1(new Uint8Array(await crypto.subtle.exportKey("raw", publicKey)));
}

/**
 * The issuer's key identifier: its subject key identifier extension when it has one (a root made
 * elsewhere may use another method), else computed from its key as {@link keyIdentifier} does.
 */
function subjectKeyIdentifierOf(issuer: Certificate): Uint8Array {
  const extension = issuer.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier);
  if (extension !== undefined) {
    const parsed = asn1js.fromBER(extension.extnValue.valueBlock.valueHexView);
    if (parsed.result instanceof asn1js.OctetString) {
      return new Uint8Array(parsed.result.valueBlock.valueHexView);
    }
  }
  return sha1(new Uint8Array(issuer.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView));
}

function distinguishedName(name: CertificateName): RelativeDistinguishedNames {
  const parts: AttributeTypeAndValue[] = [];
  if (name.country !== undefined) {
    parts.push(
      new AttributeTypeAndValue({
        type: OID.country,
        value: new asn1js.PrintableString({ value: name.country }),
      }),
    );
  }
  for (const [type, value] of [
    [OID.organization, name.organization],
    [OID.organizationalUnit, name.organizationalUnit],
    [OID.commonName, name.commonName],
  ] as const) {
    if (value !== undefined) {
      parts.push(new AttributeTypeAndValue({ type, value: new asn1js.Utf8String({ value }) }));
    }
  }
  return new RelativeDistinguishedNames({ typesAndValues: parts });
}

/** UTCTime through 2049, GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5). */
function certificateTime(date: Date): Time {
  const type = date.getUTCFullYear() < 2050 ? TimeType.UTCTime : TimeType.GeneralizedTime;
  return new Time({ type, value: new Date(Math.floor(date.getTime() / 1000) * 1000) });
}

/** A one-byte named-bit BIT STRING in DER: trailing zero bits dropped and counted as unused. */
function namedBits(bits: number): asn1js.BitString {
  let unusedBits = 0;
  while (unusedBits < 8 && (bits & (1 << unusedBits)) === 0) unusedBits++;
  return new asn1js.BitString({ valueHex: Uint8Array.of(bits), unusedBits });
}

/** 16 random bytes with the top bit clear (positive) and the next one set (minimal DER). */
function positiveSerial(): Uint8Array {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial;
}
