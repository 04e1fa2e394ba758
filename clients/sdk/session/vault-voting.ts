import { Code, ConnectError } from "@connectrpc/connect";
import { type VoteRecord, VotingService } from "../../../gen/vettid/vault/v1/voting_pb.js";
import type { Choice, SignedProposal } from "../../../gen/vettid/voting/v1/proposal_pb.js";
import type { AttestationTrustStore } from "../attestation/index.js";
import {
  checkSignedVote,
  equalBytes,
  type MyVotes,
  type TrustedKeys,
  verifyEd25519Strict,
  verifyEnclaveVoteKeyCertificate,
  verifySignedProposal,
} from "../voting/index.js";
import type { VaultSession } from "./vault-session.js";

/** The Connect path of VotingService.CastVote (the password challenge names it). */
export const CAST_VOTE_PROCEDURE = "/vettid.vault.v1.VotingService/CastVote";

/** Options of {@link castVoteInVault}. */
export interface CastVoteInVaultOptions {
  /** The member's password (CastVote is a sensitive operation). */
  readonly password: string;
  /** The proposal exactly as ProposalService returned it. */
  readonly signedProposal: SignedProposal;
  readonly choice: Choice;
  /** The org proposal keys the app pins. */
  readonly orgKeys: TrustedKeys;
  /** What the app trusts in attestation documents: the countersigning key's is checked with it. */
  readonly trust: AttestationTrustStore;
  /** Where the receipt is kept ("My Votes"). */
  readonly myVotes: MyVotes;
}

/**
 * Casts (or changes) the member's vote through their vault and keeps the receipt:
 * 1. the proposal's org signature is verified with a pinned key before anything is sent;
 * 2. VotingService.CastVote with the password (challenge, authorization, CEK rotation stored);
 * 3. the vault's answer is checked: the countersigning key's attestation, then the signed vote
 *    itself (this proposal and choice, strict signatures, vote_hash);
 * 4. the VoteRecord is saved in `myVotes`, then returned.
 *
 * @throws ConnectError `permission_denied` for a proposal that does not verify (nothing is sent),
 *   the vault's errors as they come, and `data_loss` when the vault's answer does not verify (the
 *   vault did sign and queue something: report it).
 */
export async function castVoteInVault(
  session: Pick<VaultSession, "withPassword" | "client">,
  options: CastVoteInVaultOptions,
): Promise<VoteRecord> {
  const proposal = verifySignedProposal(options.signedProposal, options.orgKeys);
  if (!proposal.ok) {
    throw new ConnectError(
      `the proposal does not verify: ${proposal.problem}`,
      Code.PermissionDenied,
    );
  }
  const response = await session.withPassword(
    CAST_VOTE_PROCEDURE,
    options.password,
    (authorization) =>
      session.client(VotingService).castVote({
        signedProposal: options.signedProposal,
        choice: options.choice,
        authorization,
      }),
  );
  const refuse = (problem: string): never => {
    throw new ConnectError(`the vault's vote does not verify: ${problem}`, Code.DataLoss);
  };
  const record = response.vote;
  const receipt = record?.receipt;
  const certificate = response.countersigningKey;
  if (record === undefined || receipt === undefined || certificate === undefined)
    return refuse("the answer has no vote or no countersigning key");
  const key = verifyEnclaveVoteKeyCertificate(certificate, options.trust);
  if (!key.ok) return refuse(`countersigning key: ${key.problem}`);
  const checked = checkSignedVote(
    receipt.signedVote,
    {
      proposalId: proposal.payload.proposalId,
      proposalHash: proposal.proposalHash,
      choices: proposal.payload.choices,
    },
    {
      countersignatureVerifier: (keyId) =>
        keyId === key.keyId
          ? (signature, message) => verifyEd25519Strict(signature, message, key.publicKey)
          : undefined,
    },
  );
  if (!checked.ok) return refuse(checked.problem);
  if (checked.payload.choice !== options.choice) return refuse("it carries another choice");
  if (!equalBytes(checked.voteHash, receipt.voteHash)) return refuse("vote_hash is wrong");
  await options.myVotes.save(record);
  return record;
}
