import { spawnSync } from "node:child_process";
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { enclaveHostRoleName } from "../lib/config/names.js";
import {
  ENCLAVE_CID,
  enclaveHostUserData,
  SUPERVISOR_VSOCK_PORT,
} from "../lib/constructs/enclave-host-user-data.js";
import { IMAGE_SHA384_CONDITION } from "../lib/constructs/sealing-key-policy.js";
import { actions, buildStacks, configFor, flatten, resources, roleStatements } from "./support.js";

const config = configFor("dev");
const { stacks } = buildStacks(config);
const template = Template.fromStack(stacks.nitro);

function userDataOf(t: Template): string {
  const lt = Object.values(t.findResources("AWS::EC2::LaunchTemplate"))[0];
  return flatten(lt?.Properties.LaunchTemplateData.UserData["Fn::Base64"]);
}

const script = userDataOf(template);

describe("enclave hosts", () => {
  it("are c6a.2xlarge with Nitro Enclaves enabled, IMDSv2 only, encrypted root volume", () => {
    template.hasResourceProperties("AWS::EC2::LaunchTemplate", {
      LaunchTemplateData: Match.objectLike({
        InstanceType: "c6a.2xlarge",
        EnclaveOptions: { Enabled: true },
        MetadataOptions: { HttpTokens: "required" },
        Monitoring: { Enabled: true },
        BlockDeviceMappings: [
          Match.objectLike({ Ebs: Match.objectLike({ Encrypted: true, VolumeType: "gp3" }) }),
        ],
      }),
    });
  });

  it("form an Auto Scaling group that waits for each host's signal and rolls one at a time", () => {
    template.hasResource("AWS::AutoScaling::AutoScalingGroup", {
      Properties: Match.objectLike({
        MinSize: String(config.nitro.minCapacity),
        MaxSize: String(config.nitro.maxCapacity),
      }),
      CreationPolicy: { ResourceSignal: { Count: config.nitro.minCapacity, Timeout: "PT15M" } },
      UpdatePolicy: Match.objectLike({
        AutoScalingRollingUpdate: Match.objectLike({
          MaxBatchSize: 1,
          WaitOnResourceSignals: true,
        }),
      }),
    });
  });

  it("accept no inbound traffic", () => {
    for (const group of Object.values(template.findResources("AWS::EC2::SecurityGroup"))) {
      expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    }
  });
});

describe("the host role", () => {
  const statements = roleStatements(template, "HostRole");

  it("has the fixed name the sealing key policy names", () => {
    template.hasResourceProperties("AWS::IAM::Role", { RoleName: enclaveHostRoleName("dev") });
  });

  it("may use the sealing key only with an accepted attestation", () => {
    const kms = statements.filter((s) => actions(s).some((a) => a.startsWith("kms:")));
    expect(kms).toHaveLength(1);
    expect(actions(kms[0] as never)).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
    expect(kms[0]?.Condition?.StringEqualsIgnoreCase?.[IMAGE_SHA384_CONDITION]).toEqual(
      config.attestation.measurements.map((m) => m.imageSha384),
    );
  });

  it("reaches only vault blobs, the release artifacts, its credentials and its logs", () => {
    const s3 = statements.filter((s) => actions(s).some((a) => a.startsWith("s3:Get")));
    expect(s3.flatMap(resources).sort()).toEqual([
      "arn:<AWS::Partition>:s3:::vettid-dev-artifacts-<AWS::AccountId>-eu-west-1/releases/*",
      "arn:<AWS::Partition>:s3:::vettid-dev-vault-blobs-<AWS::AccountId>-eu-west-1/*",
    ]);
    const artifacts = s3.find((s) => resources(s)[0]?.includes("artifacts"));
    expect(actions(artifacts as never)).toEqual(["s3:GetObject", "s3:GetObjectVersion"]);
    const services = new Set(statements.flatMap(actions).map((a) => a.split(":")[0]));
    expect([...services].sort()).toEqual(["cloudformation", "kms", "logs", "s3", "secretsmanager"]);
    for (const s of statements) for (const a of actions(s)) expect(a).not.toContain("*");
    const secrets = statements.filter((s) => actions(s).includes("secretsmanager:GetSecretValue"));
    expect(secrets).toHaveLength(1);
    expect(resources(secrets[0] as never)).toHaveLength(1);
    expect(resources(secrets[0] as never)[0]).toMatch(/Secretparentuser/);
  });

  it("has Session Manager only where configured (never in production)", () => {
    template.hasResourceProperties("AWS::IAM::Role", {
      RoleName: enclaveHostRoleName("dev"),
      ManagedPolicyArns: [
        Match.objectLike({
          "Fn::Join": Match.arrayWith([
            Match.arrayWith([":iam::aws:policy/AmazonSSMManagedInstanceCore"]),
          ]),
        }),
      ],
    });
    const prod = Template.fromStack(buildStacks(configFor("prod")).stacks.nitro);
    prod.hasResourceProperties("AWS::IAM::Role", {
      RoleName: enclaveHostRoleName("prod"),
      ManagedPolicyArns: Match.absent(),
    });
  });
});

describe("user data", () => {
  it("configures the allocator and starts the enclave with the configured memory and CPUs", () => {
    expect(script.startsWith("#!/bin/bash\n")).toBe(true);
    expect(script).toContain("memory_mib: 12288\ncpu_count: 6");
    expect(script).toContain(
      `nitro-cli run-enclave --eif-path /opt/vettid/current/vettid-enclave.eif --memory 12288 --cpu-count 6 --enclave-cid ${ENCLAVE_CID}`,
    );
    expect(script).not.toContain("--debug-mode");
  });

  it("follows the configuration: a smaller enclave on a smaller host", () => {
    const small = configFor("dev", (raw) => {
      Object.assign(raw.nitro as object, {
        instanceType: "c6a.xlarge",
        enclaveMemoryMiB: 4096,
        enclaveCpuCount: 2,
      });
    });
    const t = Template.fromStack(buildStacks(small).stacks.nitro);
    const text = userDataOf(t);
    expect(text).toContain("memory_mib: 4096\ncpu_count: 2");
    expect(text).toContain("--memory 4096 --cpu-count 2");
    t.hasResourceProperties("AWS::EC2::LaunchTemplate", {
      LaunchTemplateData: Match.objectLike({ InstanceType: "c6a.xlarge" }),
    });
  });

  it("fetches the release by version and checks the bundle's SHA-256 and the image's PCR0", () => {
    const version = config.release.version;
    expect(script).toContain(
      `s3://vettid-dev-artifacts-<AWS::AccountId>-eu-west-1/releases/${version}/vettid-app.tar.gz`,
    );
    expect(script).toContain(`${config.release.appBundleSha256}  vettid-app.tar.gz`);
    expect(script).toContain("sha256sum --check --strict");
    expect(script).toContain(`if [ "$PCR0" != '${config.release.enclaveImageSha384}' ]`);
  });

  it("starts the parent from the release with its NATS user, bridged to the enclave's vsock port", () => {
    expect(script).toContain(
      `--import tsx enclave/parent/main.ts --socket /run/vettid/supervisor.sock --nats-url tls://${config.nats.publicHostname}:443 --creds /etc/vettid/parent.creds --blob-dir /var/lib/vettid/blobs --enclave-id ${config.nitro.enclaveId}`,
    );
    expect(script).toContain(`VSOCK-CONNECT:${ENCLAVE_CID}:${SUPERVISOR_VSOCK_PORT}`);
    expect(script).toContain("WorkingDirectory=/opt/vettid/current/app");
    expect(script).toMatch(/cfn-signal -e "\$1" --stack 'vettid-dev-nitro' --resource 'Hosts/);
  });

  it("is a valid bash script", () => {
    const text = enclaveHostUserData({
      environment: "dev",
      region: "eu-west-1",
      artifactsBucket: "vettid-dev-artifacts-123456789012-eu-west-1",
      releasePrefix: "releases/1.0.0/",
      appBundleFile: "vettid-app.tar.gz",
      appBundleSha256: "a".repeat(64),
      enclaveImageFile: "vettid-enclave.eif",
      enclaveImageSha384: "b".repeat(96),
      enclaveMemoryMiB: 12288,
      enclaveCpuCount: 6,
      enclaveId: "dev-enclave-1",
      natsUrl: "tls://nats.example.org:443",
      parentCredsSecretArn:
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:vettid/dev/nats/parent-user-AbCdEf",
      logGroupName: "/vettid/dev/enclave-host",
      parentEnvironment: { VETTID_ENVIRONMENT: "dev" },
      signal: { stackName: "vettid-dev-nitro", resource: "HostsASG1234" },
    });
    const result = spawnSync("bash", ["-n"], { input: text, encoding: "utf8" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("refuses values that would break out of a systemd unit", () => {
    expect(() =>
      enclaveHostUserData({
        environment: "dev",
        region: "eu-west-1",
        artifactsBucket: "b",
        releasePrefix: "releases/1/",
        appBundleFile: "a.tgz",
        appBundleSha256: "a".repeat(64),
        enclaveImageFile: "e.eif",
        enclaveImageSha384: "b".repeat(96),
        enclaveMemoryMiB: 1024,
        enclaveCpuCount: 2,
        enclaveId: "e",
        natsUrl: "tls://n:443",
        parentCredsSecretArn: "arn",
        logGroupName: "g",
        parentEnvironment: { VETTID_X: 'a"\nExecStartPre=/bin/sh' },
        signal: { stackName: "s", resource: "r" },
      }),
    ).toThrow(/VETTID_X cannot be written to a systemd unit safely/);
  });
});
