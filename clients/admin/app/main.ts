/**
 * The admin results page (browser): lists proposals, shows a published proposal's results from
 * its org-signed head (bars per choice, total, quorum, Merkle root), downloads the vote list as
 * JSON, and runs "Verify all signatures" here, in the browser: the proposal's and the head's org
 * signatures, every vote's voting signature and enclave countersignature (noble, strict RFC 8032,
 * small-order keys refused), vote hashes, order, the recount and the RFC 9162 Merkle root. The
 * enclave attestation documents need node's X.509 and are checked by `vettid verify-votes`.
 */
import { Choice } from "../../../gen/vettid/voting/v1/proposal_pb.js";
import { ProposalStatus } from "../../../gen/vettid/voting/v1/proposal_service_pb.js";
import type { PublishedVoteList } from "../../../gen/vettid/voting/v1/vote_list_pb.js";
import { toHex } from "../../sdk/voting/bytes.js";
import { enclaveKeyBindingOnly } from "../../sdk/voting/enclave-key-policy.js";
import { verifySignedProposal } from "../../sdk/voting/proposal.js";
import { type TrustedKeys, trustKeys } from "../../sdk/voting/trusted-keys.js";
import { auditVoteList } from "../../sdk/voting/vote-list-audit.js";
import { verifySignedVoteListHead } from "../../sdk/voting/vote-list-head.js";
import { encodeVoteListJson } from "../../sdk/voting/vote-list-json.js";
import { fetchVoteList, getProposal, listProposals } from "./api.js";

interface AdminConfig {
  /** Pinned org keys, base64 DER SPKI. */
  readonly orgKeys: string[];
}

const CHOICE_LABEL: Record<number, string> = {
  [Choice.YES]: "Yes",
  [Choice.NO]: "No",
  [Choice.ABSTAIN]: "Abstain",
};
const CHOICE_CLASS: Record<number, string> = {
  [Choice.YES]: "yes",
  [Choice.NO]: "no",
  [Choice.ABSTAIN]: "abstain",
};
const STATUS_LABEL: Record<number, string> = {
  [ProposalStatus.UPCOMING]: "upcoming",
  [ProposalStatus.OPEN]: "open",
  [ProposalStatus.CLOSED]: "closed, tallying",
  [ProposalStatus.PUBLISHED]: "published",
};

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function base64ToBytes(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

async function start(): Promise<void> {
  const config = (await (await fetch("/config.json")).json()) as AdminConfig;
  const keys = trustKeys(config.orgKeys.map(base64ToBytes));
  const listNode = document.getElementById("proposals") as HTMLElement;
  const resultNode = document.getElementById("result") as HTMLElement;
  const proposals = await listProposals();
  listNode.replaceChildren(
    ...proposals.map((proposal) => {
      const verified = verifySignedProposal(proposal.signedProposal, keys);
      const label = verified.ok
        ? `${verified.payload.proposalNumber}: ${verified.payload.title}`
        : `${proposal.proposalId} (signature does not verify)`;
      const button = element(
        "button",
        { class: "proposal", "data-proposal-id": proposal.proposalId },
        label,
        " ",
        element("span", { class: "status" }, STATUS_LABEL[proposal.status] ?? ""),
      );
      button.addEventListener("click", () => {
        void showProposal(proposal.proposalId, keys, resultNode);
      });
      return element("li", {}, button);
    }),
  );
  document.body.dataset.ready = "true";
}

async function showProposal(
  proposalId: string,
  keys: TrustedKeys,
  node: HTMLElement,
): Promise<void> {
  const proposal = await getProposal(proposalId);
  if (proposal === undefined) return;
  const verified = verifySignedProposal(proposal.signedProposal, keys);
  if (!verified.ok) {
    node.replaceChildren(
      element(
        "p",
        { class: "error" },
        `The proposal's org signature does not verify: ${verified.problem}`,
      ),
    );
    return;
  }
  const payload = verified.payload;
  const children: (Node | string)[] = [
    element("h2", {}, `${payload.proposalNumber}: ${payload.title}`),
    element(
      "p",
      {},
      element("span", { class: "badge", id: "signed" }, "Signed ✓"),
      ` ${STATUS_LABEL[proposal.status] ?? ""}`,
    ),
  ];
  if (proposal.status !== ProposalStatus.PUBLISHED || proposal.results === undefined) {
    children.push(element("p", {}, "Results are shown once the vote list is published."));
    node.replaceChildren(...children);
    return;
  }
  const head = verifySignedVoteListHead(proposal.results.signedHead, keys);
  if (!head.ok) {
    children.push(
      element(
        "p",
        { class: "error" },
        `The results' org signature does not verify: ${head.problem}`,
      ),
    );
    node.replaceChildren(...children);
    return;
  }
  const total = Number(head.head.totalVotes);
  const rows = head.head.counts.map((count) => {
    const votes = Number(count.count);
    const percent = total === 0 ? 0 : (100 * votes) / total;
    return element(
      "div",
      { class: "choice-row", "data-choice": CHOICE_CLASS[count.choice] ?? "other" },
      element("span", { class: "label" }, CHOICE_LABEL[count.choice] ?? String(count.choice)),
      element(
        "div",
        { class: "bar" },
        element("div", {
          class: `fill ${CHOICE_CLASS[count.choice] ?? ""}`,
          style: `width: ${percent.toFixed(2)}%`,
        }),
      ),
      element(
        "span",
        { class: "count" },
        `${votes} vote${votes === 1 ? "" : "s"} (${percent.toFixed(1)}%)`,
      ),
    );
  });
  const download = element("button", { id: "download" }, "Download vote list (JSON)");
  const verify = element("button", { id: "verify" }, "Verify all signatures");
  const status = element("div", { id: "verify-status" });
  let cached: PublishedVoteList | undefined;
  const list = async () => {
    cached ??= await fetchVoteList(proposalId, (entries) => {
      status.textContent = `Downloading the vote list: ${entries} of ${total} votes…`;
    });
    return cached;
  };
  download.addEventListener("click", async () => {
    const bytes = encodeVoteListJson(await list());
    const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: "application/json" }));
    const link = element("a", { href: url, download: `vote-list-${payload.proposalNumber}.json` });
    document.body.append(link);
    link.click();
    link.remove();
    status.textContent = "Vote list downloaded.";
  });
  verify.addEventListener("click", async () => {
    verify.setAttribute("disabled", "");
    const report = await auditVoteList(await list(), {
      orgKeys: keys,
      enclaveKeys: enclaveKeyBindingOnly(),
      onProgress: (checked, all) => {
        status.textContent = `Verifying: ${checked} of ${all} votes…`;
      },
    });
    status.className = report.ok ? "ok" : "error";
    status.replaceChildren(
      report.ok
        ? `✓ All ${report.entries * 2} signatures verified (${report.entries} votes, voting and enclave signatures); recount and Merkle root match the signed results. Enclave attestations: check with vettid verify-votes.`
        : `✗ ${report.problemCount} problems found`,
      ...(report.ok
        ? []
        : [element("ul", {}, ...report.problems.map((problem) => element("li", {}, problem)))]),
    );
    verify.removeAttribute("disabled");
  });
  children.push(
    element("div", { class: "results", id: "results" }, ...rows),
    element(
      "p",
      { id: "total" },
      `Total: ${total} votes · Quorum: ${head.head.quorumMet ? "met" : "not met"}`,
    ),
    element(
      "p",
      {},
      "Merkle root: ",
      element("code", { id: "merkle-root" }, toHex(head.head.merkleRoot)),
    ),
    element("p", {}, download, " ", verify),
    status,
  );
  node.replaceChildren(...children);
  node.dataset.proposalId = proposalId;
}

void start().catch((error: unknown) => {
  document.body.append(
    element("p", { class: "error" }, `The page could not load: ${String(error)}`),
  );
});
