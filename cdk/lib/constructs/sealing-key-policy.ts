import {
  AccountRootPrincipal,
  AnyPrincipal,
  Effect,
  PolicyDocument,
  PolicyStatement,
} from "aws-cdk-lib/aws-iam";
import type { EnclaveMeasurement } from "../config/environment-config.js";

/**
 * What the account may do with the sealing key without attestation: manage it, never use it.
 * Deliberately absent: every cryptographic operation (`kms:Decrypt`, `kms:Encrypt`,
 * `kms:GenerateDataKey*`, `kms:ReEncrypt*`) and `kms:CreateGrant` (a grant would delegate use
 * outside this policy). `kms:PutKeyPolicy` stays: without it nobody could roll the accepted PCRs
 * forward, and KMS refuses a policy that locks its own administrators out.
 */
export const SEALING_KEY_ADMIN_ACTIONS: readonly string[] = [
  "kms:DescribeKey",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListAliases",
  "kms:ListGrants",
  "kms:ListKeyPolicies",
  "kms:ListKeyRotations",
  "kms:ListResourceTags",
  "kms:PutKeyPolicy",
  "kms:CreateAlias",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:UpdateKeyDescription",
  "kms:EnableKey",
  "kms:DisableKey",
  "kms:EnableKeyRotation",
  "kms:DisableKeyRotation",
  "kms:RotateKeyOnDemand",
  "kms:RevokeGrant",
  "kms:RetireGrant",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
];

/** What an attested enclave may do: unseal a vault's material, and make new sealed material. */
export const SEALING_KEY_ENCLAVE_ACTIONS: readonly string[] = [
  "kms:Decrypt",
  "kms:GenerateDataKey",
];

/**
 * Operations that return key material in plaintext (to the caller, or to a recipient). Denied to
 * every principal unless the request carries an attestation document with an accepted image hash.
 */
export const SEALING_KEY_PLAINTEXT_ACTIONS: readonly string[] = [
  "kms:Decrypt",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyPair",
];

/** The IAM condition key KMS fills from the attestation document's PCR0 (the image hash). */
export const IMAGE_SHA384_CONDITION = "kms:RecipientAttestation:ImageSha384";

/** The IAM condition key for PCR `n` of the recipient attestation document. */
export function pcrCondition(index: number): string {
  return `kms:RecipientAttestation:PCR${index}`;
}

/** Options of {@link sealingKeyPolicy}. */
export interface SealingKeyPolicyOptions {
  /** ARN of the enclave hosts' role (the parent relays KMS calls for its enclave). */
  readonly enclaveHostRoleArn: string;
  /** Accepted enclave builds; each gets its own allow statement (conditions inside one are ANDed). */
  readonly measurements: readonly EnclaveMeasurement[];
}

/**
 * The key policy of the vault sealing key.
 *
 * - The account can administer the key but not use it ({@link SEALING_KEY_ADMIN_ACTIONS}); since
 *   the policy grants the account no cryptographic action, no IAM policy can grant one either.
 * - The enclave host role may call `kms:Decrypt` / `kms:GenerateDataKey` only with a recipient
 *   attestation whose image hash and PCRs equal one accepted build, exactly. The role is named by
 *   `aws:PrincipalArn` on the account principal, so the key can exist before the role does
 *   (the Nitro stack creates it) and no stack depends on the other in a cycle.
 * - Every principal is denied the plaintext operations unless the image hash is an accepted one.
 *   A negated condition is true when the key is absent, so a request without an attestation
 *   document (a plain Decrypt returning plaintext to the caller) is denied, whoever makes it.
 * - `kms:ReEncrypt*` is denied outright: re-encryption decrypts inside KMS and would move vault
 *   material under a key this policy does not govern.
 */
export function sealingKeyPolicy(options: SealingKeyPolicyOptions): PolicyDocument {
  if (options.measurements.length === 0) {
    throw new TypeError("measurements must name at least one accepted enclave build");
  }
  const statements = [
    new PolicyStatement({
      sid: "AccountAdministersKeyWithoutUsingIt",
      effect: Effect.ALLOW,
      principals: [new AccountRootPrincipal()],
      actions: [...SEALING_KEY_ADMIN_ACTIONS],
      resources: ["*"],
    }),
    ...options.measurements.map(
      (m) =>
        new PolicyStatement({
          sid: `AttestedEnclaveUnseals${m.label.replace(/[^A-Za-z0-9]/g, "")}`,
          effect: Effect.ALLOW,
          principals: [new AccountRootPrincipal()],
          actions: [...SEALING_KEY_ENCLAVE_ACTIONS],
          resources: ["*"],
          conditions: {
            ArnEquals: { "aws:PrincipalArn": options.enclaveHostRoleArn },
            StringEqualsIgnoreCase: {
              [IMAGE_SHA384_CONDITION]: m.imageSha384,
              // The same value as the image hash (KMS documents ImageSha384 as PCR0), stated
              // as a PCR too so the statement reads like the attestation document.
              [pcrCondition(0)]: m.imageSha384,
              ...Object.fromEntries(
                Object.entries(m.pcrs).map(([index, value]) => [
                  pcrCondition(Number(index)),
                  value,
                ]),
              ),
            },
          },
        }),
    ),
    new PolicyStatement({
      sid: "DenyPlaintextWithoutAcceptedAttestation",
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: [...SEALING_KEY_PLAINTEXT_ACTIONS],
      resources: ["*"],
      conditions: {
        StringNotEqualsIgnoreCase: {
          [IMAGE_SHA384_CONDITION]: [...new Set(options.measurements.map((m) => m.imageSha384))],
        },
      },
    }),
    new PolicyStatement({
      sid: "DenyReEncrypt",
      effect: Effect.DENY,
      principals: [new AnyPrincipal()],
      actions: ["kms:ReEncrypt*"],
      resources: ["*"],
    }),
  ];
  return new PolicyDocument({ statements });
}
