/**
 * Issuance and enrollment rate limits, with their counters in dynalite's rate-limits table: the
 * local server and the Lambda adapter count together, as Lambda instances do in production.
 */
import { Code } from "@connectrpc/connect";
import { createUser } from "@nats-io/nkeys";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeviceProofPurpose } from "../../gen/vettid/enrollment/v1/device_pb.js";
import { failure } from "../support/failure.js";
import { type BackendFixture, startBackendFixture } from "./backend-fixture.js";
import { digestText, enrollMember, TestDevice } from "./member-app.js";

let fixture: BackendFixture;
beforeAll(async () => {
  fixture = await startBackendFixture({
    rateLimits: {
      issuancePerHour: 3,
      enrollStartPerAddressPerHour: 4,
      enrollStartPerInvitationPerHour: 2,
    },
  });
});
afterAll(async () => {
  await fixture?.close();
});

describe("rate limits", () => {
  it("NATS credentials: at most 3 per member per hour, counted across instances", async () => {
    const member = await enrollMember(
      fixture.clients("lambda", { sourceIp: "203.0.113.1" }),
      await fixture.invite(),
      fixture.enclave.trust,
    ); // the first issuance (NatsBootstrap)
    const refresh = (target: "local" | "lambda") => {
      const nkey = createUser().getPublicKey();
      return fixture.clients(target).credentials.refreshNatsCredentials({
        ownerGuid: member.ownerGuid,
        userNkeyPublic: nkey,
        deviceProof: member.device.proof(
          DeviceProofPurpose.NATS_REFRESH,
          member.ownerGuid,
          digestText(nkey),
        ),
      });
    };
    await refresh("local");
    await refresh("lambda");
    const error = await failure(refresh("local"));
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toMatch(/at most 3 per hour; retry in \d+ s/);
    // NatsBootstrap draws on the same allowance.
    const nkey = createUser().getPublicKey();
    const bootstrap = await failure(
      fixture.clients("lambda").enrollment.natsBootstrap({
        enrollmentSessionId: member.sessionId,
        userNkeyPublic: nkey,
        deviceProof: member.device.proof(
          DeviceProofPurpose.NATS_BOOTSTRAP,
          member.sessionId,
          digestText(nkey),
        ),
      }),
    );
    expect(bootstrap.code).toBe(Code.ResourceExhausted);
  });

  it("EnrollStart: per caller address, whatever the code", async () => {
    const clients = fixture.clients("lambda", { sourceIp: "198.51.100.7" });
    for (let i = 0; i < 4; i++) {
      await clients.enrollment.enrollStart({
        invitationCode: await fixture.invite(),
        deviceAttestation: TestDevice.create().attestation(),
      });
    }
    const error = await failure(
      clients.enrollment.enrollStart({
        invitationCode: await fixture.invite(),
        deviceAttestation: TestDevice.create().attestation(),
      }),
    );
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toContain("enrollment starts from this address");
    // Unknown codes count too (probing costs), and another address is not affected.
    const other = fixture.clients("lambda", { sourceIp: "198.51.100.8" });
    const unknown = await failure(
      other.enrollment.enrollStart({
        invitationCode: "NOPE-NOPE-NOPE",
        deviceAttestation: TestDevice.create().attestation(),
      }),
    );
    expect(unknown.code).toBe(Code.NotFound);
  });

  it("EnrollStart: per invitation code, whatever the address", async () => {
    const code = await fixture.invite();
    for (const ip of ["198.51.100.20", "198.51.100.21"]) {
      await fixture.clients("lambda", { sourceIp: ip }).enrollment.enrollStart({
        invitationCode: code,
        deviceAttestation: TestDevice.create().attestation(),
      });
    }
    const error = await failure(
      fixture.clients("lambda", { sourceIp: "198.51.100.22" }).enrollment.enrollStart({
        invitationCode: code.toLowerCase(),
        deviceAttestation: TestDevice.create().attestation(),
      }),
    );
    expect(error.code).toBe(Code.ResourceExhausted);
    expect(error.rawMessage).toContain("with this invitation code");
  });
});
