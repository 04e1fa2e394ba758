import { X509Certificate } from "node:crypto";
import { create, toJson } from "@bufbuild/protobuf";
import type { Command } from "commander";
import {
  AttestationDocumentSchema,
  TrustRoot,
  VerificationFailure,
} from "../../../gen/vettid/attestation/v1/document_pb.js";
import { PcrSetSchema } from "../../../gen/vettid/attestation/v1/pcr_pb.js";
import {
  type AttestationVerification,
  type VerifyAttestationOptions,
  verifyAttestation,
} from "../../sdk/attestation/index.js";
import { CliError, EXIT_CODES, usageError } from "../exit-codes.js";
import {
  binaryOrBase64,
  collect,
  hexArgument,
  isoTimeArgument,
  pcrArguments,
  readInput,
  secondsArgument,
} from "../inputs.js";
import { type CliIo, outputFor, table, withJsonOption } from "../output.js";

interface VerifyAttestationFlags {
  readonly at?: string;
  readonly allowDebug?: boolean;
  readonly root?: string;
  readonly nonce?: string;
  readonly userData?: string;
  readonly maxAge?: string;
  readonly pcr?: string[];
  readonly json?: boolean;
}

/** `vettid verify-attestation FILE`: verifies a saved Nitro attestation document. */
export function registerVerifyAttestation(program: Command, io: CliIo): void {
  withJsonOption(
    program
      .command("verify-attestation")
      .summary("verify a Nitro Enclave attestation document (exit 0 only if it verifies)")
      .description(
        [
          "Verifies an attestation document (COSE_Sign1, raw CBOR or base64 text; - reads stdin):",
          "ES384 signature, certificate chain to the pinned AWS Nitro root G1, validity at --at,",
          "digest, PCR sizes, debug mode, field sizes, and whatever else is asked (--nonce, --pcr,",
          "--max-age). Exit 0 when it verifies, 1 when it is refused (the check is named), 2 for",
          "bad input. A saved document is checked for authenticity, not freshness: its age is",
          "checked only with --max-age, and PCRs only with --pcr.",
        ].join("\n"),
      )
      .argument("<file>", "the document: raw CBOR or base64 text, - for stdin")
      .option("--at <iso-time>", "verify at this time instead of now, e.g. 2022-11-09T23:00:00Z")
      .option("--allow-debug", "accept a debug-mode enclave (PCR0-2 all zeros)")
      .option(
        "--root <pem-file>",
        "also trust this dev root certificate (the dev NSM's), by its fingerprint",
      )
      .option("--nonce <hex>", "the document must carry exactly this nonce")
      .option("--user-data <hex>", "the document must carry exactly this user_data")
      .option("--max-age <seconds>", "refuse a document older than this at --at")
      .option(
        "--pcr <index=hex>",
        "accept only this PCR value (repeat for 0, 1 and 2 at least)",
        collect,
      ),
  ).action(async (file: string, flags: VerifyAttestationFlags) => {
    const output = outputFor(io, flags);
    const options = await verifyOptions(flags, io);
    const raw = binaryOrBase64(
      await readInput(file, io, "document"),
      (bytes) => bytes[0] === 0x84 || bytes[0] === 0xd2, // an array of 4, or tag 18
      `document ${file}`,
    );
    const result = verifyAttestation(raw, options);
    const pcrsChecked = options.allowAnyPcrs !== true;
    output.result(jsonResult(result, pcrsChecked), () => humanResult(result, pcrsChecked));
    if (!result.valid) {
      throw new CliError(
        `attestation refused: ${VerificationFailure[result.failure]}`,
        EXIT_CODES.failed,
        "refused",
        { reported: true },
      );
    }
  });
}

async function verifyOptions(
  flags: VerifyAttestationFlags,
  io: CliIo,
): Promise<VerifyAttestationOptions> {
  let devRootSha256: string | undefined;
  if (flags.root !== undefined) {
    const pem = await readInput(flags.root, io, "root certificate");
    try {
      devRootSha256 = new X509Certificate(pem).fingerprint256.replaceAll(":", "").toLowerCase();
    } catch {
      throw usageError(`--root ${flags.root} is not a PEM (or DER) certificate`);
    }
  }
  const pcrs = pcrArguments(flags.pcr);
  const givenPcrs = Object.keys(pcrs).length > 0;
  return {
    ...(flags.at === undefined ? {} : { at: isoTimeArgument(flags.at, "--at") }),
    allowDebug: flags.allowDebug === true,
    ...(devRootSha256 === undefined ? {} : { devRootSha256, allowDevRoot: true }),
    ...(flags.nonce === undefined ? {} : { expectedNonce: hexArgument(flags.nonce, "--nonce") }),
    ...(flags.userData === undefined
      ? {}
      : { expectedUserData: hexArgument(flags.userData, "--user-data") }),
    maxAgeMs:
      flags.maxAge === undefined
        ? Number.POSITIVE_INFINITY
        : secondsArgument(flags.maxAge, "--max-age"),
    ...(givenPcrs
      ? { pcrSets: [create(PcrSetSchema, { id: "command-line", pcrs })] }
      : { allowAnyPcrs: true }),
  };
}

function jsonResult(result: AttestationVerification, pcrsChecked: boolean) {
  return {
    valid: result.valid,
    failure: result.valid ? null : VerificationFailure[result.failure],
    detail: result.detail,
    trustRoot: result.trustRoot === TrustRoot.UNSPECIFIED ? null : TrustRoot[result.trustRoot],
    pcrsChecked,
    verifiedAt: new Date(Number(result.verifiedAtMs)).toISOString(),
    document:
      result.document === undefined
        ? null
        : toJson(AttestationDocumentSchema, result.document, { alwaysEmitImplicit: false }),
  };
}

function humanResult(result: AttestationVerification, pcrsChecked: boolean): string[] {
  const lines = result.valid
    ? [`verified: authentic attestation document (root ${rootName(result.trustRoot)})`]
    : [`refused: ${VerificationFailure[result.failure]}: ${result.detail}`];
  const document = result.document;
  if (document !== undefined) {
    const hex = (bytes: Uint8Array | undefined) =>
      bytes === undefined
        ? "(none)"
        : bytes.length === 0
          ? "(empty)"
          : shorten(Buffer.from(bytes).toString("hex"));
    lines.push(
      ...table([
        ["module", document.moduleId],
        ["issued", new Date(Number(document.timestampMs)).toISOString()],
        ["PCR0", hex(document.pcrs[0])],
        ["PCR1", hex(document.pcrs[1])],
        ["PCR2", hex(document.pcrs[2])],
        ["public key", hex(document.publicKey)],
        ["user data", hex(document.userData)],
        ["nonce", hex(document.nonce)],
        ["verified at", new Date(Number(result.verifiedAtMs)).toISOString()],
        [
          "PCRs",
          pcrsChecked
            ? result.valid
              ? "match the --pcr values"
              : "see above"
            : "not checked (give --pcr 0=… --pcr 1=… --pcr 2=…)",
        ],
      ]),
    );
  }
  return lines;
}

function rootName(root: TrustRoot): string {
  return root === TrustRoot.AWS_NITRO_G1
    ? "AWS Nitro root G1"
    : root === TrustRoot.DEV_NSM
      ? "dev NSM root, explicitly trusted"
      : "unknown";
}

function shorten(hex: string): string {
  return hex.length <= 100
    ? hex
    : `${hex.slice(0, 48)}…${hex.slice(-16)} (${hex.length / 2} bytes)`;
}
