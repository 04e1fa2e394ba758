/**
 * `npm start -- --demo`: a scripted member journey against the running local stack, printing each
 * step — what a mobile app does, through the reference SDK: enroll with an invitation over HTTP
 * (the enclave's attestation verified, the credential created inside the enclave), connect to NATS
 * with the member's own JWT, set a PIN, store secrets, prove the password, lock and unlock; then
 * an admin opens a proposal and the member votes through their vault, and changes the vote.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import type { AttestationTrustStore } from "../../clients/sdk/attestation/index.js";
import { enroll } from "../../clients/sdk/enrollment/index.js";
import { createMemberStore } from "../../clients/sdk/member/index.js";
import {
  castVoteInVault,
  connectMember,
  openVaultSession,
} from "../../clients/sdk/session/index.js";
import { createFileSecureStorage } from "../../clients/sdk/storage/index.js";
import {
  createMyVotes,
  type TrustedKeys,
  toHex,
  verifySignedProposal,
} from "../../clients/sdk/voting/index.js";
import { VaultState } from "../../gen/vettid/vault/v1/common_pb.js";
import { PinCheckResult } from "../../gen/vettid/vault/v1/pin_pb.js";
import { SecretProtection, SecretsService } from "../../gen/vettid/vault/v1/secrets_pb.js";
import { VoteSubmissionStatus, VotingService } from "../../gen/vettid/vault/v1/voting_pb.js";
import { Choice, QuorumType } from "../../gen/vettid/voting/v1/proposal_pb.js";
import { ProposalService } from "../../gen/vettid/voting/v1/proposal_service_pb.js";

/** What the demo needs from the stack. */
export interface DemoOptions {
  readonly baseUrl: string;
  readonly invitationCode: string;
  readonly trust: AttestationTrustStore;
  /** Bearer token of the admin calls (CreateProposal). */
  readonly adminToken: string;
  /** The org proposal keys the app pins. */
  readonly orgKeys: TrustedKeys;
  readonly print: (line: string) => void;
}

/** Runs the journey; throws (after printing the failing step) if any step fails. */
export async function runDemoJourney(options: DemoOptions): Promise<void> {
  const { print } = options;
  const home = await mkdtemp(join(tmpdir(), "vettid-demo-"));
  let stepNumber = 0;
  const step = async <T>(title: string, run: () => Promise<T>, show: (result: T) => string) => {
    stepNumber += 1;
    const started = performance.now();
    try {
      const result = await run();
      print(
        `  ${String(stepNumber).padStart(2)}. ${title} — ${show(result)} (${Math.round(performance.now() - started)} ms)`,
      );
      return result;
    } catch (error) {
      print(
        `  ${String(stepNumber).padStart(2)}. ${title} — FAILED: ${error instanceof Error ? error.message : String(error)}`,
      );
      throw error;
    }
  };
  try {
    print("Demo: a member's journey (reference SDK, as a mobile app does it)");
    const member = createMemberStore(await createFileSecureStorage(join(home, "member")));
    const password = "correct horse battery staple";
    const enrollment = await step(
      "enroll with the invitation (device key, enclave attestation verified, password hashed with Argon2id, credential made in the enclave)",
      () =>
        enroll({
          baseUrl: options.baseUrl,
          invitationCode: options.invitationCode,
          password,
          member,
          trust: options.trust,
        }),
      (e) => `member ${e.ownerGuid}`,
    );
    const connection = await step(
      "connect to NATS with the member's own JWT",
      () => connectMember(member),
      () => "connected",
    );
    const session = await step(
      "open a vault session (fresh attestation on the member's subject, calls sealed to its key)",
      () => openVaultSession({ connection, member, trust: options.trust }),
      () => "sealed session open",
    );
    await step(
      "bootstrap",
      () => session.bootstrap(),
      (r) => `vault ${VaultState[r.state]}, ${r.utks.length} UTKs`,
    );
    await step(
      "set the PIN",
      () => session.setupPin("246813"),
      (r) => `vault ${VaultState[r.state]}`,
    );
    const secrets = session.client(SecretsService);
    await step(
      "store a secret",
      () => secrets.putSecret({ name: "home wifi", value: new TextEncoder().encode("hunter2") }),
      (r) => `"${r.secret?.name}" version ${r.secret?.version}`,
    );
    await step(
      "store a protected secret (password checked in the vault; the CEK rotates)",
      () =>
        session.withPassword(
          "/vettid.vault.v1.SecretsService/PutSecret",
          password,
          (authorization) =>
            secrets.putSecret({
              name: "seed phrase",
              value: new TextEncoder().encode("abandon abandon about"),
              protection: SecretProtection.PROTECTED,
              authorization,
            }),
        ),
      (r) => `credential now at CEK version ${r.rotatedCredential?.credential?.cekVersion}`,
    );
    await step(
      "lock the vault (the DEK leaves enclave memory)",
      () => session.lock(),
      (r) => `vault ${VaultState[r.state]}`,
    );
    await step(
      "a wrong PIN",
      () => session.unlock("000000"),
      (r) => `${PinCheckResult[r.result]}, ${r.pinAttempts?.attemptsRemaining} attempts left`,
    );
    await step(
      "the right PIN",
      () => session.unlock("246813"),
      (r) => `${PinCheckResult[r.result]}, vault ${VaultState[r.state]}`,
    );
    await step(
      "read the secret back",
      () => secrets.getSecret({ secret: { case: "name", value: "home wifi" } }),
      (r) => `"${new TextDecoder().decode(r.value)}"`,
    );
    await step(
      "list secrets",
      () => secrets.listSecrets({}),
      (r) => r.secrets.map((s) => s.name).join(", "),
    );
    const proposals = createClient(
      ProposalService,
      createConnectTransport({ baseUrl: options.baseUrl, httpVersion: "1.1" }),
    );
    const created = await step(
      "an admin opens a proposal (signed with the org key; the app verifies it before showing it)",
      () =>
        proposals.createProposal(
          {
            requestId: randomUUID(),
            title: "Demo: adopt the new meeting schedule",
            text: "Shall meetings move to the first Thursday of each month?",
            category: "demo",
            choices: [Choice.YES, Choice.NO, Choice.ABSTAIN],
            opensAtMs: BigInt(Date.now()),
            closesAtMs: BigInt(Date.now() + 24 * 3_600_000),
            quorumType: QuorumType.NONE,
          },
          { headers: { authorization: `Bearer ${options.adminToken}` } },
        ),
      (r) => {
        const verified = verifySignedProposal(r.proposal?.signedProposal, options.orgKeys);
        if (!verified.ok) throw new Error(`the proposal does not verify: ${verified.problem}`);
        return `${verified.payload.proposalNumber} "${verified.payload.title}", org signature verified`;
      },
    );
    const signedProposal = created.proposal?.signedProposal;
    if (signedProposal === undefined) throw new Error("the proposal came back unsigned");
    const myVotes = createMyVotes(await createFileSecureStorage(join(home, "votes")));
    const vote = (choice: Choice) =>
      castVoteInVault(session, {
        password,
        signedProposal,
        choice,
        orgKeys: options.orgKeys,
        trust: options.trust,
        myVotes,
      });
    await step(
      "vote YES with the password (the vault checks the subscription, signs with a per-proposal key; the enclave countersigns)",
      () => vote(Choice.YES),
      (r) =>
        `revision ${r.revision}, ${VoteSubmissionStatus[r.status]}, vote hash ${toHex(r.receipt?.voteHash ?? new Uint8Array()).slice(0, 16)}…, receipt kept`,
    );
    await step(
      "change the vote to NO before the proposal closes",
      () => vote(Choice.NO),
      (r) => `revision ${r.revision} replaces revision 1`,
    );
    await step(
      "the vault's record of the member's votes (they leave in the enclave's next batch)",
      () => session.client(VotingService).listVotes({}),
      (r) =>
        r.votes
          .map((v) => `r${v.revision} ${Choice[v.choice]} ${VoteSubmissionStatus[v.status]}`)
          .join(", "),
    );
    await connection.close();
    print(
      `Demo done: member ${enrollment.ownerGuid} enrolled, used its vault and voted; the stack keeps it.`,
    );
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
