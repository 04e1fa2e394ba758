import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as asn1js from "asn1js";
import { Certificate } from "pkijs";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_INTERMEDIATE_VALIDITY_MS,
  DEFAULT_LEAF_VALIDITY_MS,
  issueDevChain,
} from "./dev-chain.js";
import { createDevRoot, devRootFromPem, devRootToPem } from "./dev-root.js";

const T0 = Date.parse("2025-06-01T12:00:00Z");

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function extensions(der: Uint8Array) {
  const certificate = Certificate.fromBER(new Uint8Array(der));
  const byId = new Map((certificate.extensions ?? []).map((e) => [e.extnID, e]));
  const octets = (id: string) => {
    const value = byId.get(id)?.extnValue.valueBlock.valueHexView;
    return value === undefined ? undefined : new Uint8Array(value);
  };
  const keyId = (id: string, path: (node: asn1js.AsnType) => Uint8Array) => {
    const value = octets(id);
    return value === undefined ? undefined : path(asn1js.fromBER(value).result);
  };
  return {
    basicConstraintsCritical: byId.get("2.5.29.19")?.critical,
    keyUsageCritical: byId.get("2.5.29.15")?.critical,
    keyUsage: octets("2.5.29.15"),
    subjectKeyId: keyId(
      "2.5.29.14",
      (node) => new Uint8Array((node as asn1js.OctetString).valueBlock.valueHexView),
    ),
    authorityKeyId: keyId(
      "2.5.29.35",
      (node) =>
        new Uint8Array(
          ((node as asn1js.Sequence).valueBlock.value[0] as asn1js.Primitive).valueBlock
            .valueHexView,
        ),
    ),
  };
}

describe("dev signing chain", () => {
  it("is root → regional CA → instance CA → leaf, each issued and signed by the one before", async () => {
    const root = await createDevRoot(T0);
    const chain = await issueDevChain(root, {
      nowMs: T0,
      moduleId: "i-00000000000000000-enc0000000000000001",
    });
    const certificates = [...chain.cabundle, chain.certificate].map(
      (der) => new X509Certificate(der),
    );
    expect(certificates.map((c) => c.subject.split("CN=")[1])).toEqual([
      "VettID dev NSM root",
      "VettID dev NSM regional CA",
      "VettID dev NSM instance CA",
      "i-00000000000000000-enc0000000000000001.dev-nsm",
    ]);
    for (let i = 1; i < certificates.length; i++) {
      const [issuer, subject] = [
        certificates[i - 1] as X509Certificate,
        certificates[i] as X509Certificate,
      ];
      expect(subject.checkIssued(issuer)).toBe(true);
      expect(subject.verify(issuer.publicKey)).toBe(true);
    }
    expect(certificates.map((c) => c.ca)).toEqual([true, true, true, false]);
  });

  it("has Nitro's short lifetimes: a 3-hour leaf under day-long intermediates", async () => {
    const chain = await issueDevChain(await createDevRoot(T0), { nowMs: T0, moduleId: "m" });
    const [, regional, instance] = chain.cabundle.map((der) => new X509Certificate(der));
    const leaf = new X509Certificate(chain.certificate);
    expect(Date.parse(leaf.validTo) - T0).toBe(DEFAULT_LEAF_VALIDITY_MS);
    expect(Date.parse(leaf.validFrom)).toBe(T0 - 60_000);
    expect(Date.parse(instance?.validTo ?? "") - T0).toBe(DEFAULT_INTERMEDIATE_VALIDITY_MS);
    expect(Date.parse(regional?.validTo ?? "") - T0).toBe(DEFAULT_INTERMEDIATE_VALIDITY_MS);
    expect(chain.notAfterMs).toBe(T0 + DEFAULT_LEAF_VALIDITY_MS);
    expect(chain.notBeforeMs).toBe(T0 - 60_000);
  });

  it("marks key usage and constraints critical and links key identifiers", async () => {
    const root = await createDevRoot(T0);
    const chain = await issueDevChain(root, { nowMs: T0, moduleId: "m" });
    const all = [...chain.cabundle, chain.certificate].map(extensions);
    for (const e of all) {
      expect(e.basicConstraintsCritical).toBe(true);
      expect(e.keyUsageCritical).toBe(true);
    }
    // DER BIT STRING: unused-bit count, then the bits (CAs: digitalSignature, keyCertSign, cRLSign).
    expect(all.slice(0, 3).map((e) => Array.from(e.keyUsage ?? []))).toEqual(
      Array(3).fill([3, 2, 1, 0x86]),
    );
    expect(Array.from(all[3]?.keyUsage ?? [])).toEqual([3, 2, 7, 0x80]);
    for (let i = 1; i < all.length; i++) {
      expect(all[i]?.authorityKeyId).toEqual(all[i - 1]?.subjectKeyId);
    }
    expect(all[0]?.authorityKeyId).toEqual(all[0]?.subjectKeyId);
  });

  it.skipIf(!hasOpenssl())("passes `openssl verify` with strict path validation", async () => {
    const root = await createDevRoot(Date.now());
    const chain = await issueDevChain(root, { nowMs: Date.now(), moduleId: "m" });
    const dir = await mkdtemp(join(tmpdir(), "dev-chain-"));
    try {
      const pem = (der: Uint8Array) => new X509Certificate(der).toString();
      await writeFile(join(dir, "root.pem"), pem(chain.cabundle[0] as Uint8Array));
      await writeFile(join(dir, "untrusted.pem"), chain.cabundle.slice(1).map(pem).join(""));
      await writeFile(join(dir, "leaf.pem"), pem(chain.certificate));
      const output = execFileSync(
        "openssl",
        [
          "verify",
          "-x509_strict",
          "-CAfile",
          "root.pem",
          "-untrusted",
          "untrusted.pem",
          "leaf.pem",
        ],
        { cwd: dir, encoding: "utf8" },
      );
      expect(output.trim()).toBe("leaf.pem: OK");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("chains under a root read back from PEM", async () => {
    const root = await devRootFromPem(devRootToPem(await createDevRoot(T0)));
    const chain = await issueDevChain(root, { nowMs: T0, moduleId: "m" });
    const regional = new X509Certificate(chain.cabundle[1] as Uint8Array);
    expect(regional.checkIssued(new X509Certificate(root.certificate))).toBe(true);
    expect(regional.verify(new X509Certificate(root.certificate).publicKey)).toBe(true);
  });
});
