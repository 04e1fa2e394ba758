/**
 * The backend never learns which member cast which vote: after an election run through the real
 * backend (subscription statements, batched votes, a re-vote, publication, inclusion proofs),
 * every table item, every log line, every metric and every file the backend produced is
 * inspected. None joins a member id or an identity key to a voting key, a vote or a choice.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type AttributeValue, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVoteBatcher, natsVoteSubmitter } from "../../enclave/voting/index.js";
import { Choice, QuorumType, type SignedProposal } from "../../gen/vettid/voting/v1/proposal_pb.js";
import { createNatsTransport } from "../../rpc/index.js";
import { type TableKey, tableName } from "../../server/storage/index.js";
import { createTestVault, type TestVault } from "./support/test-vault.js";
import { ENVIRONMENT, startVotingStack, type VotingStack } from "./support/voting-stack.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 1, 8, 0, 0);
const VOTING_TABLES: TableKey[] = ["proposals", "votes", "voteLists"];

let stack: VotingStack;
const vaults: TestVault[] = [];

/** Something the backend produced, as text and as bytes (binary attributes and files are searched raw). */
interface Inspected {
  readonly where: string;
  readonly text: string;
  readonly bytes: Buffer;
}

/** The forms an identifier can take in text or bytes. */
function forms(bytes: Uint8Array): { texts: string[]; raw: Buffer } {
  const buffer = Buffer.from(bytes);
  return {
    texts: [buffer.toString("hex"), buffer.toString("base64"), buffer.toString("base64url")],
    raw: buffer,
  };
}

function contains(record: Inspected, needle: { texts: string[]; raw?: Buffer }): boolean {
  if (needle.texts.some((text) => record.text.includes(text))) return true;
  return needle.raw !== undefined && needle.raw.length >= 16 && record.bytes.includes(needle.raw);
}

function itemRecord(where: string, item: Readonly<Record<string, AttributeValue>>): Inspected {
  const binaries: Buffer[] = [];
  const text = JSON.stringify(item, (_key, value: unknown) => {
    if (value instanceof Uint8Array) {
      binaries.push(Buffer.from(value));
      return `${Buffer.from(value).toString("hex")} ${Buffer.from(value).toString("base64")}`;
    }
    return value;
  });
  return { where, text, bytes: Buffer.concat(binaries) };
}

async function scan(table: TableKey): Promise<Readonly<Record<string, AttributeValue>>[]> {
  const items: Readonly<Record<string, AttributeValue>>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await stack.dynalite.client.send(
      new ScanCommand({
        TableName: tableName(ENVIRONMENT, table),
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

beforeAll(async () => {
  stack = await startVotingStack(T0);
  const batcher = createVoteBatcher({
    submit: natsVoteSubmitter(createNatsTransport({ connection: stack.enclaveConnection })),
    onOutcome: () => {},
  });
  const { proposal } = await stack.proposals.createProposal(
    {
      requestId: crypto.randomUUID(),
      title: "Privacy",
      text: "Who voted how must stay unknown.",
      category: "governance",
      choices: [Choice.YES, Choice.NO, Choice.ABSTAIN],
      opensAtMs: BigInt(T0),
      closesAtMs: BigInt(T0 + 24 * HOUR),
      quorumType: QuorumType.NONE,
      quorumValue: 0n,
    },
    stack.admin,
  );
  const signed = proposal?.signedProposal as SignedProposal;
  stack.clock.now = T0 + HOUR;
  for (let i = 0; i < 12; i++) {
    const member = stack.fixture.member();
    await stack.enroll(member);
    const vault = createTestVault(member, stack.fixture, stack.subscriptions, batcher);
    await vault.refreshSubscription(stack.clock.now);
    vault.vote(
      signed,
      [Choice.YES, Choice.NO, Choice.ABSTAIN][i % 3] as Choice,
      stack.clock.now + i * 7_000,
    );
    vaults.push(vault);
  }
  await batcher.flush();
  vaults[0]?.vote(signed, Choice.ABSTAIN, stack.clock.now + 2 * HOUR);
  await batcher.flush();
  stack.clock.now = T0 + 25 * HOUR;
  await stack.backend.publisher.closeExpired();
  for (const vault of vaults) {
    const last = vault.receipts[vault.receipts.length - 1];
    if (last !== undefined)
      await stack.voteLists.getMerkleProof({
        proposalId: proposal?.proposalId ?? "",
        voteHash: last.voteHash,
      });
  }
}, 90_000);

afterAll(async () => {
  await stack?.stop();
});

describe("nothing the backend keeps links a member to a vote", () => {
  const memberNeedles = () =>
    vaults.flatMap((vault) => [
      { what: `member id ${vault.member.ownerGuid}`, texts: [vault.member.ownerGuid] },
      { what: "identity key", ...forms(vault.member.identityPublicKey) },
    ]);
  const voteNeedles = () =>
    vaults.flatMap((vault) =>
      vault.receipts.flatMap((receipt) => [
        { what: "voting key", ...forms(receipt.votingPublicKey) },
        { what: "vote hash", ...forms(receipt.voteHash) },
        {
          what: "signed vote",
          texts: [Buffer.from(receipt.signedVote.votingSignature).toString("base64")],
          raw: Buffer.from(receipt.signedVote.votingSignature),
        },
      ]),
    );

  async function everything(): Promise<Inspected[]> {
    const records: Inspected[] = [];
    for (const table of [...VOTING_TABLES, "members" as const]) {
      for (const [index, item] of (await scan(table)).entries())
        records.push(itemRecord(`${table} item ${index}`, item));
    }
    stack.logLines.forEach((line, index) => {
      records.push({ where: `log line ${index}`, text: line, bytes: Buffer.from(line) });
    });
    stack.metrics.forEach((metric, index) => {
      const text = JSON.stringify(metric);
      records.push({ where: `metric ${index}`, text, bytes: Buffer.from(text) });
    });
    for (const file of await readdir(stack.blobDirectory, {
      recursive: true,
      withFileTypes: true,
    })) {
      if (!file.isFile()) continue;
      const path = join(file.parentPath, file.name);
      const bytes = await readFile(path);
      records.push({
        where: `file ${path.slice(stack.blobDirectory.length)}`,
        text: bytes.toString("latin1"),
        bytes,
      });
    }
    return records;
  }

  it("the backend produced what we inspect: items in every table, log lines, metrics, list files", async () => {
    const records = await everything();
    for (const table of [...VOTING_TABLES, "members"]) {
      expect(
        records.some((r) => r.where.startsWith(`${table} item`)),
        table,
      ).toBe(true);
    }
    expect(records.some((r) => r.where.startsWith("log line"))).toBe(true);
    expect(records.some((r) => r.where.startsWith("metric"))).toBe(true);
    expect(records.some((r) => r.where.includes(".json"))).toBe(true);
    // The inspection itself works: every vote's key is found somewhere, and every member id too.
    for (const needle of voteNeedles().filter((n) => n.what === "voting key")) {
      expect(records.some((r) => contains(r, needle))).toBe(true);
    }
    for (const needle of memberNeedles())
      expect(records.some((r) => contains(r, needle))).toBe(true);
  });

  it("no record holds both something naming a member and something naming a vote", async () => {
    const members = memberNeedles();
    const votes = voteNeedles();
    const joined: string[] = [];
    for (const record of await everything()) {
      const member = members.find((needle) => contains(record, needle));
      const vote = votes.find((needle) => contains(record, needle));
      if (member !== undefined && vote !== undefined)
        joined.push(`${record.where}: ${member.what} with ${vote.what}`);
    }
    expect(joined).toEqual([]);
  });

  it("member ids and identity keys appear nowhere in the voting tables, logs, metrics or files", async () => {
    const members = memberNeedles();
    const found = (await everything())
      .filter((record) => !record.where.startsWith("members item"))
      .flatMap((record) =>
        members
          .filter((needle) => contains(record, needle))
          .map((needle) => `${record.where}: ${needle.what}`),
      );
    expect(found).toEqual([]);
  });

  it("member items hold no choice and no vote data", async () => {
    for (const item of await scan("members")) {
      expect(Object.keys(item).sort()).not.toEqual(expect.arrayContaining(["choice"]));
      expect(Object.keys(item).some((name) => /vote|choice|voting/.test(name))).toBe(false);
    }
  });

  it("a vote item holds exactly the vote: proposal id, voting key, vote hash, revision, signed vote; no time, no batch", async () => {
    const items = await scan("votes");
    expect(items).toHaveLength(vaults.length);
    for (const item of items) {
      expect(Object.keys(item).sort()).toEqual([
        "proposal_id",
        "revision",
        "signed_vote",
        "vote_hash",
        "voting_public_key",
      ]);
    }
  });

  it("log lines and metrics name no voting key, vote hash or choice of a single vote", async () => {
    const votes = voteNeedles();
    for (const [index, line] of stack.logLines.entries()) {
      const record = { where: `log line ${index}`, text: line, bytes: Buffer.from(line) };
      expect(
        votes.filter((needle) => contains(record, needle)).map((n) => n.what),
        line,
      ).toEqual([]);
      expect(line).not.toMatch(/CHOICE_|"choice"/);
    }
    for (const metric of stack.metrics) {
      expect(Object.keys(metric.dimensions).filter((name) => name !== "reason")).toEqual([]);
    }
  });
});
