import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Match, Template } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, it } from "vitest";
import { issueCertificate, P384_KEY_ALGORITHM } from "../../enclave/nsm/x509-issuer.js";
import { createNatsTrust } from "../../server/nats-auth/index.js";
import {
  NATS_CLIENT_PORT,
  NATS_CONFIG_DIR,
  NATS_MONITOR_PORT,
  natsServerConfig,
  natsStartScript,
} from "../lib/constructs/nats-server-config.js";
import { buildStacks, configFor } from "./support.js";

const config = configFor("dev");
const { stacks } = buildStacks(config);
const template = Template.fromStack(stacks.nats);

describe("NATS stack", () => {
  it("listens on TCP 443 publicly and forwards to nats-server's TLS client port", () => {
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::LoadBalancer", {
      Type: "network",
      Scheme: "internet-facing",
    });
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::Listener", {
      Port: 443,
      Protocol: "TCP",
    });
    template.hasResourceProperties("AWS::ElasticLoadBalancingV2::TargetGroup", {
      Port: NATS_CLIENT_PORT,
      Protocol: "TCP",
      TargetType: "ip",
      HealthCheckProtocol: "HTTP",
      HealthCheckPort: String(NATS_MONITOR_PORT),
      HealthCheckPath: "/healthz",
    });
  });

  it("runs the configured nodes on Fargate ARM64 in private subnets, with container insights", () => {
    template.hasResourceProperties("AWS::ECS::Service", {
      DesiredCount: config.nats.nodeCount,
      LaunchType: "FARGATE",
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: "DISABLED" } },
    });
    template.hasResourceProperties("AWS::ECS::TaskDefinition", {
      RuntimePlatform: { CpuArchitecture: "ARM64", OperatingSystemFamily: "LINUX" },
    });
    template.hasResourceProperties("AWS::ECS::Cluster", {
      ClusterSettings: [{ Name: "containerInsights", Value: "enabled" }],
    });
  });

  it("injects the operator-mode text and TLS material from Secrets Manager, not the template", () => {
    const task = Object.values(template.findResources("AWS::ECS::TaskDefinition"))[0];
    const container = task?.Properties.ContainerDefinitions[0];
    expect(container.Image).toBe(config.nats.image);
    expect(container.Environment).toBeUndefined();
    expect(container.Secrets.map((s: { Name: string }) => s.Name).sort()).toEqual([
      "NATS_OPERATOR_CONFIG",
      "NATS_TLS_CERT",
      "NATS_TLS_KEY",
    ]);
    const tls = container.Secrets.filter((s: { Name: string }) => s.Name.startsWith("NATS_TLS"));
    expect(JSON.stringify(tls)).toMatch(/:cert::/);
    expect(JSON.stringify(tls)).toMatch(/:key::/);
  });

  it("opens no port to the internet on the nodes; routes only between nodes", () => {
    const groups = template.findResources("AWS::EC2::SecurityGroup");
    for (const group of Object.values(groups)) {
      for (const rule of group.Properties.SecurityGroupIngress ?? []) {
        expect(rule.CidrIp).not.toBe("0.0.0.0/0");
      }
    }
    template.hasResourceProperties("AWS::EC2::SecurityGroupIngress", {
      FromPort: 6222,
      ToPort: 6222,
      SourceSecurityGroupId: Match.anyValue(),
    });
  });
});

describe("nats-server configuration", () => {
  it("requires TLS, advertises the public name on 443, and routes only in a cluster", () => {
    const single = natsServerConfig({
      clusterName: "vettid-dev",
      publicHostname: "nats.example.org",
    });
    expect(single).toContain(`client_advertise: "nats.example.org:443"`);
    expect(single).toMatch(/tls \{\n {2}cert_file: "\/tmp\/nats\/tls.crt"/);
    expect(single).not.toContain("cluster {");
    const clustered = natsServerConfig({
      clusterName: "vettid-prod",
      publicHostname: "nats.example.org",
      routesHostname: "nats.vettid-prod.internal",
    });
    expect(clustered).toContain(`routes: ["nats-route://nats.vettid-prod.internal:6222"]`);
    expect(clustered).toContain("no_advertise: true");
    expect(clustered).toContain(`include "operator.conf"`);
  });

  it("builds a cluster with Cloud Map routes in production", () => {
    const prod = buildStacks(configFor("prod")).stacks.nats;
    const task = Object.values(
      Template.fromStack(prod).findResources("AWS::ECS::TaskDefinition"),
    )[0];
    const script = task?.Properties.ContainerDefinitions[0].Command[0] as string;
    expect(script).toContain("nats-route://nats.vettid-prod.internal:6222");
  });
});

describe("the container start script, run by sh", () => {
  const work = mkdtempSync(join(tmpdir(), "vettid-nats-script-"));
  const bin = join(work, "bin");
  afterAll(() => {
    spawnSync("rm", ["-rf", work]);
  });

  /** Runs the script with `nats-server` replaced by one that only checks the configuration (-t). */
  function run(env: Record<string, string>, configText: string) {
    execFileSync("mkdir", ["-p", bin]);
    const real = execFileSync(
      "sh",
      ["-c", "command -v nats-server || echo /usr/sbin/nats-server"],
      {
        encoding: "utf8",
      },
    ).trim();
    writeFileSync(join(bin, "nats-server"), `#!/bin/sh\nexec ${real} -t "$@"\n`);
    chmodSync(join(bin, "nats-server"), 0o755);
    const script = natsStartScript(configText).replaceAll(NATS_CONFIG_DIR, join(work, "conf"));
    return spawnSync("sh", ["-ec", script], {
      env: { PATH: `${bin}:${process.env.PATH}`, ...env },
      encoding: "utf8",
    });
  }

  it("refuses to start while a secret still holds its placeholder", () => {
    const result = run(
      { NATS_OPERATOR_CONFIG: "UNSET: put the value", NATS_TLS_CERT: "x", NATS_TLS_KEY: "y" },
      natsServerConfig({ clusterName: "t", publicHostname: "nats.example.org" }),
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("the secret for NATS_OPERATOR_CONFIG is not set");
  });

  it("writes owner-only files that a real nats-server accepts (operator mode, TLS)", async () => {
    const keys = await crypto.subtle.generateKey(P384_KEY_ALGORITHM, true, ["sign", "verify"]);
    const der = await issueCertificate({
      subject: { commonName: "nats.example.org" },
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      notBefore: new Date(Date.UTC(2020, 0, 1)),
      notAfter: new Date(Date.UTC(2040, 0, 1)),
      ca: false,
    });
    const pem = (label: string, bytes: Uint8Array) =>
      `-----BEGIN ${label}-----\n${Buffer.from(bytes)
        .toString("base64")
        .replace(/(.{64})/g, "$1\n")
        .trimEnd()}\n-----END ${label}-----`;
    const key = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
    const trust = await createNatsTrust();
    const result = run(
      {
        NATS_OPERATOR_CONFIG: trust.serverConfig(),
        NATS_TLS_CERT: pem("CERTIFICATE", der),
        NATS_TLS_KEY: pem("PRIVATE KEY", key),
      },
      natsServerConfig({
        clusterName: "vettid-test",
        publicHostname: "nats.example.org",
        routesHostname: "127.0.0.1",
      }).replaceAll(NATS_CONFIG_DIR, join(work, "conf")),
    );
    expect(result.stderr + result.stdout).toMatch(/configuration file .* is valid/);
    expect(result.status).toBe(0);
    for (const file of ["tls.key", "tls.crt", "operator.conf"]) {
      expect(statSync(join(work, "conf", file)).mode & 0o777, file).toBe(0o600);
    }
    expect(readFileSync(join(work, "conf", "nats.conf"), "utf8")).toContain("client_advertise");
  });
});
