/**
 * Test-only: the keys and parties of a voting test — an org key and a subscription key (local
 * P-256 signers behind the KMS interface), a dev NSM whose root and build are trusted, an enclave
 * countersigning key certified by it, members with identity keys, and signed proposals and
 * subscription statements.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import type { AttestationTrustStore } from "../../../clients/sdk/attestation/index.js";
import { type TrustedKeys, trustKeys } from "../../../clients/sdk/voting/index.js";
import { createDevNsm, type DevNsm } from "../../../enclave/nsm/index.js";
import {
  createEnclaveVoteCountersigner,
  type EnclaveVoteCountersigner,
  type VotingTrust,
} from "../../../enclave/voting/index.js";
import { PcrSetSchema } from "../../../gen/vettid/attestation/v1/pcr_pb.js";
import {
  Choice,
  type ProposalPayload,
  QuorumType,
  type SignedProposal,
} from "../../../gen/vettid/voting/v1/proposal_pb.js";
import type { SubscriptionStatement } from "../../../gen/vettid/voting/v1/subscription_pb.js";
import { createLocalP256Signer, type LocalP256Signer } from "../../../server/signing/index.js";
import { signProposal, signSubscriptionStatement } from "../../../server/voting/backend-signing.js";

/** A member as only their vault knows them. */
export interface TestMember {
  readonly ownerGuid: string;
  /** The identity private key's 32-byte seed. */
  readonly identitySeed: Uint8Array;
  readonly identityPublicKey: Uint8Array;
}

/** See the file comment. */
export interface VotingFixture {
  readonly orgSigner: LocalP256Signer;
  readonly subscriptionSigner: LocalP256Signer;
  readonly orgKeys: TrustedKeys;
  readonly subscriptionKeys: TrustedKeys;
  readonly trust: VotingTrust;
  readonly nsm: DevNsm;
  /** Trusts the dev NSM's root and this build's PCRs. */
  readonly attestation: AttestationTrustStore;
  readonly countersigner: EnclaveVoteCountersigner;
  member(): TestMember;
  /** A proposal payload with sensible defaults, open over [opensAtMs, closesAtMs). */
  proposalPayload(fields?: Partial<ProposalPayload>): ProposalPayload;
  signProposal(fields?: Partial<ProposalPayload>): Promise<SignedProposal>;
  statement(
    ownerGuid: string,
    issuedAtMs: number,
    validUntilMs: number,
  ): Promise<SubscriptionStatement>;
}

/** Builds the fixture (a dev NSM measures the enclave code once: about a second). */
export async function createVotingFixture(): Promise<VotingFixture> {
  const orgSigner = createLocalP256Signer();
  const subscriptionSigner = createLocalP256Signer();
  const orgKeys = trustKeys([(await orgSigner.describe()).spki]);
  const subscriptionKeys = trustKeys([(await subscriptionSigner.describe()).spki]);
  const nsm = createDevNsm();
  const { pcrs } = await nsm.describePcrs();
  const attestation: AttestationTrustStore = {
    devRootSha256: (await nsm.rootCertificate()).fingerprintSha256,
    allowDevRoot: true,
    pcrSets: [
      create(PcrSetSchema, {
        id: "dev-build",
        pcrs: Object.fromEntries(pcrs.filter((p) => p.index <= 2).map((p) => [p.index, p.value])),
      }),
    ],
  };
  const countersigner = await createEnclaveVoteCountersigner(nsm);
  let number = 0;
  const proposalPayload = (fields: Partial<ProposalPayload> = {}): ProposalPayload => {
    number++;
    return {
      $typeName: "vettid.voting.v1.ProposalPayload",
      proposalId: randomUUID(),
      proposalNumber: `P${String(number).padStart(7, "0")}`,
      title: "Budget allocation 2026",
      text: "Shall the budget be allocated as proposed?\nLine breaks are kept.",
      category: "budget",
      choices: [Choice.YES, Choice.NO, Choice.ABSTAIN],
      opensAtMs: 1_700_000_000_000n,
      closesAtMs: 1_700_000_000_000n + 7n * 86_400_000n,
      quorumType: QuorumType.MIN_VOTES,
      quorumValue: 3n,
      createdAtMs: 1_699_999_000_000n,
      ...fields,
    };
  };
  return {
    orgSigner,
    subscriptionSigner,
    orgKeys,
    subscriptionKeys,
    trust: { orgKeys, subscriptionKeys },
    nsm,
    attestation,
    countersigner,
    member() {
      const identitySeed = ed25519.utils.randomSecretKey();
      return {
        ownerGuid: randomUUID(),
        identitySeed,
        identityPublicKey: ed25519.getPublicKey(identitySeed),
      };
    },
    proposalPayload,
    signProposal: (fields) => signProposal(orgSigner, proposalPayload(fields)),
    statement: (ownerGuid, issuedAtMs, validUntilMs) =>
      signSubscriptionStatement(subscriptionSigner, {
        $typeName: "vettid.voting.v1.SubscriptionStatementPayload",
        ownerGuid,
        issuedAtMs: BigInt(issuedAtMs),
        validUntilMs: BigInt(validUntilMs),
      }),
  };
}
