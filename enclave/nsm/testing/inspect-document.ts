/**
 * Test-only: decodes and checks attestation documents, the dev NSM's and AWS's alike, so the tests
 * can hold the two side by side. It is not the verifier (the SDK builds that) and is not exported
 * from the package; it trusts its input to be well formed and throws where a verifier would
 * report a failure.
 */
import { X509Certificate } from "node:crypto";
import { p384 } from "@noble/curves/nist.js";
import { decode, Tag } from "cbor2";
import { COSE_SIGN1_TAG } from "../constants.js";
import { sigStructure } from "../cose-sign1.js";

/** A decoded document, with the original bytes of every part a signature covers. */
export interface InspectedDocument {
  /** Whether the COSE_Sign1 was wrapped in tag 18. */
  readonly tagged: boolean;
  /** The protected header's bstr contents, as in the document. */
  readonly protectedHeader: Uint8Array;
  /** The protected header, decoded. */
  readonly protectedMap: Map<unknown, unknown>;
  /** The unprotected header, decoded. */
  readonly unprotected: Map<unknown, unknown>;
  /** The payload's bstr contents, as in the document. */
  readonly payloadBytes: Uint8Array;
  /** The signature's bstr contents. */
  readonly signature: Uint8Array;
  /** The payload map, decoded, keys in document order. */
  readonly payload: Map<unknown, unknown>;
  readonly moduleId: string;
  readonly digest: string;
  readonly timestampMs: number;
  readonly pcrs: Map<number, Uint8Array>;
  readonly certificate: Uint8Array;
  readonly cabundle: Uint8Array[];
  readonly publicKey: Uint8Array | null;
  readonly userData: Uint8Array | null;
  readonly nonce: Uint8Array | null;
}

/** Decodes a raw document (tagged or not) with cbor2, keeping maps as Maps. */
export function inspectDocument(raw: Uint8Array): InspectedDocument {
  let top = decode(new Uint8Array(raw), { preferMap: true });
  let tagged = false;
  if (top instanceof Tag) {
    if (top.tag !== COSE_SIGN1_TAG) throw new Error(`unexpected tag ${top.tag}`);
    tagged = true;
    top = top.contents;
  }
  if (!Array.isArray(top) || top.length !== 4) throw new Error("not a COSE_Sign1 array of 4");
  const [protectedHeader, unprotected, payloadBytes, signature] = top as [
    Uint8Array,
    Map<unknown, unknown>,
    Uint8Array,
    Uint8Array,
  ];
  const payload = decode(payloadBytes, { preferMap: true }) as Map<unknown, unknown>;
  return {
    tagged,
    protectedHeader,
    protectedMap: decode(protectedHeader, { preferMap: true }) as Map<unknown, unknown>,
    unprotected,
    payloadBytes,
    signature,
    payload,
    moduleId: payload.get("module_id") as string,
    digest: payload.get("digest") as string,
    timestampMs: payload.get("timestamp") as number,
    pcrs: payload.get("pcrs") as Map<number, Uint8Array>,
    certificate: payload.get("certificate") as Uint8Array,
    cabundle: payload.get("cabundle") as Uint8Array[],
    publicKey: payload.get("public_key") as Uint8Array | null,
    userData: payload.get("user_data") as Uint8Array | null,
    nonce: payload.get("nonce") as Uint8Array | null,
  };
}

/**
 * The shape of a decoded CBOR value, for comparing documents' structure: `text`, `uint`, `null`,
 * `bytes[n]` (with `n` only where the length is fixed by the format), `array<…>`, `map{…}`.
 */
export function shapeOf(value: unknown, sizeMatters = false): string {
  if (value === null) return "null";
  if (typeof value === "string") return "text";
  if (typeof value === "number" || typeof value === "bigint") {
    return Number(value) >= 0 && Number.isInteger(Number(value)) ? "uint" : "number";
  }
  if (value instanceof Uint8Array) return sizeMatters ? `bytes[${value.length}]` : "bytes";
  if (Array.isArray(value)) {
    return `array<${[...new Set(value.map((item) => shapeOf(item, sizeMatters)))].join("|")}>`;
  }
  if (value instanceof Map) {
    return `map{${[...value.entries()].map(([k, v]) => `${shapeOf(k)}:${shapeOf(v, sizeMatters)}`).join(",")}}`;
  }
  return typeof value;
}

/**
 * The structure of a document's payload, key by key in document order: each value's shape, with
 * sizes for the PCRs (fixed at 48 bytes); optional fields as they are (`null` or `bytes`).
 */
export function payloadShape(document: InspectedDocument): [string, string][] {
  return [...document.payload.entries()].map(([key, value]) => [
    String(key),
    shapeOf(value, key === "pcrs"),
  ]);
}

/**
 * Verifies the COSE signature the way the vectors README says a verifier must: ES384 over the
 * Sig_structure built from the document's original protected-header and payload bytes, the
 * signature raw r‖s, high-S allowed, the key from the leaf certificate.
 */
export function coseSignatureVerifies(document: InspectedDocument): boolean {
  const leaf = new X509Certificate(document.certificate);
  const jwk = leaf.publicKey.export({ format: "jwk" });
  if (jwk.crv !== "P-384" || jwk.x === undefined || jwk.y === undefined) return false;
  const point = new Uint8Array([
    0x04,
    ...Buffer.from(jwk.x, "base64url"),
    ...Buffer.from(jwk.y, "base64url"),
  ]);
  const message = sigStructure(document.protectedHeader, document.payloadBytes);
  return p384.verify(document.signature, message, point, { lowS: false });
}

/**
 * Walks root → intermediates → leaf with node:crypto: each certificate is issued by the one
 * before it (`checkIssued` and `verify`), every issuer is a CA, the root is self-signed and its
 * SHA-256 fingerprint is `pinnedRootFingerprint`, and each is valid at `atMs`. Returns the first
 * problem found, or undefined when the chain holds.
 */
export function chainProblem(
  document: InspectedDocument,
  pinnedRootFingerprint: string,
  atMs: number,
): string | undefined {
  const chain = [...document.cabundle, document.certificate].map((der) => new X509Certificate(der));
  const root = chain[0];
  if (root === undefined) return "empty cabundle";
  const fingerprint = root.fingerprint256.replaceAll(":", "").toLowerCase();
  if (fingerprint !== pinnedRootFingerprint) return `root fingerprint ${fingerprint} is not pinned`;
  if (!root.verify(root.publicKey)) return "root is not self-signed";
  for (let i = 0; i < chain.length; i++) {
    const certificate = chain[i] as X509Certificate;
    const issuer = chain[Math.max(0, i - 1)] as X509Certificate;
    if (i > 0) {
      if (!issuer.ca) return `certificate ${i - 1} signs but is not a CA`;
      if (!certificate.checkIssued(issuer)) return `certificate ${i} is not issued by ${i - 1}`;
      if (!certificate.verify(issuer.publicKey))
        return `certificate ${i} signature does not verify`;
    }
    if (atMs < Date.parse(certificate.validFrom)) return `certificate ${i} is not yet valid`;
    if (atMs > Date.parse(certificate.validTo)) return `certificate ${i} has expired`;
  }
  if (chain[chain.length - 1]?.ca) return "leaf is a CA";
  return undefined;
}
