import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type HandlerContext } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  CastVoteRequestSchema,
  ListVotesRequestSchema,
} from "../../../gen/vettid/vault/v1/voting_pb.js";
import { subjectValuesKey } from "../../../rpc/server/index.js";
import type { VaultAccess } from "./vault-access.js";
import { createVotingService } from "./voting-service.js";

const OWNER = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";

function context(): HandlerContext {
  const values = createContextValues();
  values.set(subjectValuesKey, { owner_guid: OWNER });
  return { values } as unknown as HandlerContext;
}

/** Access that fails the test if a vault is ever touched. */
const untouchable: VaultAccess = {
  use: () => Promise.reject(new Error("the vault must not be touched")),
  create: () => Promise.reject(new Error("the vault must not be touched")),
  pinRateLimited: () => {},
  now: () => 0,
  vaultVersion: "test",
  attest: () => Promise.reject(new Error("no attestation here")),
};

async function refusal(call: () => unknown): Promise<ConnectError> {
  try {
    await call();
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected a refusal");
}

describe("VotingService refusals before the vault is touched", () => {
  it("an enclave without voting keys answers failed_precondition to both calls", async () => {
    const service = createVotingService(untouchable, undefined);
    const cast = await refusal(() => service.castVote(create(CastVoteRequestSchema), context()));
    expect(cast.code).toBe(Code.FailedPrecondition);
    expect(cast.rawMessage).toMatch(/no voting keys/);
    const list = await refusal(() => service.listVotes(create(ListVotesRequestSchema), context()));
    expect(list.code).toBe(Code.FailedPrecondition);
  });

  it("ListVotes refuses a page token it did not issue and a proposal id that is not a UUID", async () => {
    const voting = {
      trust: {} as never,
      countersigner: {} as never,
      queue: () => {},
      takePendingOutcomes: () => [],
    };
    const service = createVotingService(untouchable, voting);
    const token = await refusal(() =>
      service.listVotes(create(ListVotesRequestSchema, { pageToken: "-1 OR 1=1" }), context()),
    );
    expect(token.code).toBe(Code.InvalidArgument);
    expect(token.rawMessage).toMatch(/page_token/);
    const proposal = await refusal(() =>
      service.listVotes(create(ListVotesRequestSchema, { proposalId: "P0000001" }), context()),
    );
    expect(proposal.code).toBe(Code.InvalidArgument);
    expect(proposal.rawMessage).toMatch(/proposal_id/);
  });

  it("CastVote refuses a missing proposal as invalid_argument before asking for the vault", async () => {
    const voting = {
      trust: { orgKeys: new Map(), subscriptionKeys: new Map() } as never,
      countersigner: {} as never,
      queue: () => {},
      takePendingOutcomes: () => [],
    };
    const service = createVotingService(untouchable, voting);
    const error = await refusal(() => service.castVote(create(CastVoteRequestSchema), context()));
    expect(error.code).toBe(Code.InvalidArgument);
  });
});
