import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { beforeAll, describe, expect, it } from "vitest";
import { SubscriptionStatementSchema } from "../../gen/vettid/voting/v1/subscription_pb.js";
import {
  createVotingFixture,
  type VotingFixture,
} from "../../test/voting/support/voting-fixture.js";
import {
  acceptSubscriptionStatement,
  nextSubscriptionRefreshAt,
  SUBSCRIPTION_REFRESH_INTERVAL_MS,
} from "./subscription-cache.js";

const NOW = 1_750_000_000_000;
let fixture: VotingFixture;
beforeAll(async () => {
  fixture = await createVotingFixture();
});

describe("subscription statement cache", () => {
  it("keeps a verified statement as its exact bytes", async () => {
    const member = fixture.member();
    const statement = await fixture.statement(member.ownerGuid, NOW - 1000, NOW + 3_600_000);
    const cached = acceptSubscriptionStatement(
      statement,
      fixture.subscriptionKeys,
      member.ownerGuid,
      NOW,
    );
    expect(fromBinary(SubscriptionStatementSchema, cached.statement)).toEqual(statement);
    expect(cached.validUntilMs).toBe(NOW + 3_600_000);
  });
  it("refuses an expired statement, another member's, one valid over 72 hours, or one from an unknown key", async () => {
    const member = fixture.member();
    const cases = [
      await fixture.statement(member.ownerGuid, NOW - 7_200_000, NOW - 1),
      await fixture.statement(fixture.member().ownerGuid, NOW - 1000, NOW + 1000),
      await fixture.statement(member.ownerGuid, NOW, NOW + 72 * 3_600_000 + 1),
    ];
    for (const statement of cases) {
      const error = (() => {
        try {
          acceptSubscriptionStatement(statement, fixture.subscriptionKeys, member.ownerGuid, NOW);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConnectError);
      expect((error as ConnectError).code).toBe(Code.PermissionDenied);
    }
    const valid = await fixture.statement(member.ownerGuid, NOW, NOW + 1000);
    expect(() =>
      acceptSubscriptionStatement(valid, fixture.orgKeys, member.ownerGuid, NOW),
    ).toThrow(/not a pinned key/);
  });
  it("refreshes about every 12 hours, and at once with nothing valid cached", () => {
    const cached = {
      statement: new Uint8Array(),
      validUntilMs: NOW + 48 * 3_600_000,
      fetchedAtMs: NOW,
    };
    expect(nextSubscriptionRefreshAt(undefined, NOW)).toBe(NOW);
    expect(nextSubscriptionRefreshAt(cached, NOW + 49 * 3_600_000)).toBe(NOW + 49 * 3_600_000);
    expect(nextSubscriptionRefreshAt(cached, NOW, () => 0.5)).toBe(
      NOW + SUBSCRIPTION_REFRESH_INTERVAL_MS,
    );
    const early = nextSubscriptionRefreshAt(cached, NOW, () => 0);
    const late = nextSubscriptionRefreshAt(cached, NOW, () => 0.999);
    expect(early).toBeGreaterThanOrEqual(NOW + 11 * 3_600_000);
    expect(late).toBeLessThanOrEqual(NOW + 13 * 3_600_000);
  });
});
