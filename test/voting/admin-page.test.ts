/**
 * The admin results page in a real headless Chromium (playwright-core): a published proposal's
 * results render with bars, the Merkle root is the signed one, the vote list downloads as JSON,
 * and "Verify all signatures" verifies every vote in the browser (and catches a tampered list).
 * A screenshot is checked too: not blank, and the bars' colours are there in proportion.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AdminServer, startAdminServer } from "../../clients/admin/index.js";
import { decodeVoteListJson } from "../../clients/sdk/voting/index.js";
import { createVoteBatcher, natsVoteSubmitter } from "../../enclave/voting/index.js";
import { Choice, QuorumType, type SignedProposal } from "../../gen/vettid/voting/v1/proposal_pb.js";
import { createNatsTransport } from "../../rpc/index.js";
import { createTestVault } from "./support/test-vault.js";
import { startVotingStack, type VotingStack } from "./support/voting-stack.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 3, 1, 8, 0, 0);
/** 6 YES, 3 NO, 1 ABSTAIN. */
const CHOICES = [1, 1, 1, 1, 1, 1, 2, 2, 2, 3] as Choice[];

let stack: VotingStack;
let admin: AdminServer;
let browser: Browser;
let page: Page;
let proposalId: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`,
    );
  stack = await startVotingStack(T0);
  const batcher = createVoteBatcher({
    submit: natsVoteSubmitter(createNatsTransport({ connection: stack.enclaveConnection })),
    onOutcome: () => {},
  });
  const { proposal } = await stack.proposals.createProposal(
    {
      requestId: crypto.randomUUID(),
      title: "Budget allocation 2026",
      text: "Shall the budget be allocated as proposed?",
      category: "budget",
      choices: [Choice.YES, Choice.NO, Choice.ABSTAIN],
      opensAtMs: BigInt(T0),
      closesAtMs: BigInt(T0 + 24 * HOUR),
      quorumType: QuorumType.MIN_VOTES,
      quorumValue: 5n,
    },
    stack.admin,
  );
  proposalId = proposal?.proposalId as string;
  stack.clock.now = T0 + HOUR;
  for (const choice of CHOICES) {
    const member = stack.fixture.member();
    await stack.enroll(member);
    const vault = createTestVault(member, stack.fixture, stack.subscriptions, batcher);
    await vault.refreshSubscription(stack.clock.now);
    vault.vote(proposal?.signedProposal as SignedProposal, choice, stack.clock.now);
  }
  await batcher.flush();
  stack.clock.now = T0 + 25 * HOUR;
  await stack.backend.publisher.closeExpired();
  admin = await startAdminServer({
    backendUrl: stack.httpUrl,
    orgKeys: [(await stack.fixture.orgSigner.describe()).spki],
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1000, height: 800 }, acceptDownloads: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await admin?.close();
  await stack?.stop();
});

/** Counts pixels of each colour in a PNG, decoded by the browser itself (canvas). */
async function pixelCounts(png: Buffer, colours: Record<string, [number, number, number]>) {
  return page.evaluate(
    async ({ data, wanted }) => {
      const image = new Image();
      image.src = `data:image/png;base64,${data}`;
      await image.decode();
      const canvas = document.createElement("canvas");
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext("2d") as CanvasRenderingContext2D;
      context.drawImage(image, 0, 0);
      const pixels = context.getImageData(0, 0, image.width, image.height).data;
      const counts: Record<string, number> = { white: 0, total: image.width * image.height };
      for (const name of Object.keys(wanted)) counts[name] = 0;
      const distinct = new Set<number>();
      for (let i = 0; i < pixels.length; i += 4) {
        const [r, g, b] = [pixels[i] as number, pixels[i + 1] as number, pixels[i + 2] as number];
        if (distinct.size < 1000) distinct.add((r << 16) | (g << 8) | b);
        if (r === 255 && g === 255 && b === 255) counts.white = (counts.white ?? 0) + 1;
        for (const [name, [wr, wg, wb]] of Object.entries(wanted)) {
          if (Math.abs(r - wr) <= 2 && Math.abs(g - wg) <= 2 && Math.abs(b - wb) <= 2)
            counts[name] = (counts[name] ?? 0) + 1;
        }
      }
      counts.distinct = distinct.size;
      return counts;
    },
    { data: png.toString("base64"), wanted: colours },
  );
}

describe("admin results page (headless Chromium)", () => {
  it("lists the proposal and shows its signed results with bars and the Merkle root", async () => {
    await page.goto(admin.url);
    await page.waitForSelector("body[data-ready=true]");
    await page.click(`button[data-proposal-id="${proposalId}"]`);
    await page.waitForSelector("#results");
    expect(await page.textContent("#signed")).toContain("Signed ✓");
    expect(await page.textContent('[data-choice="yes"] .count')).toBe("6 votes (60.0%)");
    expect(await page.textContent('[data-choice="no"] .count')).toBe("3 votes (30.0%)");
    expect(await page.textContent('[data-choice="abstain"] .count')).toBe("1 vote (10.0%)");
    expect(await page.textContent("#total")).toBe("Total: 10 votes · Quorum: met");
    const { proposal } = await stack.proposals.getProposal({ proposalId });
    const list = await stack.voteLists.getPublishedVoteList({ proposalId });
    expect(await page.textContent("#merkle-root")).toBe(
      Buffer.from(list.voteList?.merkleRoot ?? []).toString("hex"),
    );
    expect(proposal?.results).toBeDefined();
  });

  it("renders: a screenshot is not blank and shows each bar's colour in proportion", async () => {
    const png = await page.screenshot({ fullPage: true });
    // VOTING_SCREENSHOT=path keeps the screenshot, to look at the page.
    if (process.env.VOTING_SCREENSHOT !== undefined)
      await writeFile(process.env.VOTING_SCREENSHOT, png);
    const counts = await pixelCounts(png, {
      yes: [0x2e, 0x7d, 0x32],
      no: [0xc6, 0x28, 0x28],
      abstain: [0x15, 0x65, 0xc0],
    });
    expect(counts.white).toBeLessThan(counts.total as number);
    expect(counts.distinct).toBeGreaterThan(20);
    const yes = counts.yes as number;
    const no = counts.no as number;
    const abstain = counts.abstain as number;
    expect(abstain).toBeGreaterThan(200);
    // Bars of equal height: areas in the ratio 6 : 3 : 1 (rounding at the edges allowed).
    expect(yes / abstain).toBeGreaterThan(5);
    expect(yes / abstain).toBeLessThan(7);
    expect(no / abstain).toBeGreaterThan(2.5);
    expect(no / abstain).toBeLessThan(3.5);
  });

  it("downloads the vote list as JSON, which decodes to the published list", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    const path = await download.path();
    const list = decodeVoteListJson(new Uint8Array(await readFile(path)));
    expect(list.proposalId).toBe(proposalId);
    expect(list.entries).toHaveLength(CHOICES.length);
  });

  it("verifies every signature in the browser", async () => {
    await page.click("#verify");
    await page.waitForSelector("#verify-status.ok, #verify-status.error", { timeout: 60_000 });
    expect(await page.getAttribute("#verify-status", "class")).toBe("ok");
    expect(await page.textContent("#verify-status")).toContain(
      `All ${CHOICES.length * 2} signatures verified`,
    );
  });

  it("the browser's verification catches a list altered on the way", async () => {
    const tamperedPage = await browser.newPage();
    await tamperedPage.route(
      "**/api/vettid.voting.v1.VoteListService/GetPublishedVoteList",
      async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as { voteList: { entries: { choice: string }[] } };
        const entry = body.voteList.entries[2];
        if (entry !== undefined)
          entry.choice = entry.choice === "CHOICE_YES" ? "CHOICE_NO" : "CHOICE_YES";
        await route.fulfill({ response, json: body });
      },
    );
    await tamperedPage.goto(admin.url);
    await tamperedPage.waitForSelector("body[data-ready=true]");
    await tamperedPage.click(`button[data-proposal-id="${proposalId}"]`);
    await tamperedPage.click("#verify");
    await tamperedPage.waitForSelector("#verify-status.ok, #verify-status.error", {
      timeout: 60_000,
    });
    expect(await tamperedPage.getAttribute("#verify-status", "class")).toBe("error");
    expect(await tamperedPage.textContent("#verify-status")).toContain("entry 2");
    await tamperedPage.close();
  });
});
