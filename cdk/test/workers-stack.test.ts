import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { type TableKey, tableName } from "../../server/storage/tables.js";
import { readVotingWorkerConfig } from "../../server/workers/voting-workers.js";
import { BACKEND_WORKERS, tableEnvName } from "../lib/config/backend-access.js";
import { WORKERS_COMMAND } from "../lib/stacks/workers-stack.js";
import { actions, buildStacks, configFor, flatten, resources, roleStatements } from "./support.js";

const config = configFor("dev");
const { stacks } = buildStacks(config);
const template = Template.fromStack(stacks.workers);
const task = Object.values(template.findResources("AWS::ECS::TaskDefinition"))[0];
const container = task?.Properties.ContainerDefinitions[0];
/** A workers template's container environment, values flattened (`<import:…>` for cross-stack references). */
function containerEnvironment(t: Template): Record<string, string> {
  const definition = Object.values(t.findResources("AWS::ECS::TaskDefinition"))[0];
  const entries = (definition?.Properties.ContainerDefinitions[0].Environment ?? []) as {
    Name: string;
    Value: unknown;
  }[];
  return Object.fromEntries(entries.map((e) => [e.Name, flatten(e.Value)]));
}
const environment = containerEnvironment(template);
const taskStatements = roleStatements(
  template,
  task?.Properties.TaskRoleArn["Fn::GetAtt"][0] as string,
);

describe("backend workers", () => {
  it("run the release's app image from the app repository, read-only, as a non-root user", () => {
    expect(JSON.stringify(container.Image)).toContain(`:${config.release.version}`);
    expect(JSON.stringify(container.Image)).toContain("AppRepository");
    expect(container.Command).toEqual([...WORKERS_COMMAND]);
    expect(container.ReadonlyRootFilesystem).toBe(true);
    expect(container.User).toBe("node");
  });

  it("run the configured number of tasks with no inbound traffic", () => {
    template.hasResourceProperties("AWS::ECS::Service", {
      DesiredCount: config.workers.desiredCount,
    });
    for (const group of Object.values(template.findResources("AWS::EC2::SecurityGroup"))) {
      expect(group.Properties.SecurityGroupIngress).toBeUndefined();
    }
  });

  it("get the tables of their catalogue entry, by name, and nothing else", () => {
    const env = Object.fromEntries(
      (container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    for (const table of Object.keys(BACKEND_WORKERS.tables) as TableKey[]) {
      expect(env[tableEnvName(table)]).toBe(tableName("dev", table));
    }
    const taskRoleId = task?.Properties.TaskRoleArn["Fn::GetAtt"][0] as string;
    const statements = roleStatements(template, taskRoleId);
    const tables = statements
      .filter((s) => actions(s).includes("dynamodb:GetItem"))
      .map((s) => resources(s)[0]?.replace(/^.*:table\//, ""));
    expect(tables.sort()).toEqual(
      Object.keys(BACKEND_WORKERS.tables)
        .map((t) => tableName("dev", t as TableKey))
        .sort(),
    );
    const signing = statements.filter((s) => actions(s).includes("kms:Sign"));
    expect(signing.flatMap(resources)).toHaveLength(BACKEND_WORKERS.signingKeys.length);
    for (const s of statements) for (const a of actions(s)) expect(a).not.toContain("*");
    expect(statements.some((s) => actions(s).includes("kms:Decrypt"))).toBe(false);
  });

  it("get the voting variables: both signing keys, the vote-lists bucket, its public URL, the PCR sets", () => {
    expect(environment.VETTID_KMS_PROPOSAL_KEY_ARN).toMatch(
      /^<import:vettid-dev-infrastructure:.*ProposalSigningKey.*Arn.*>$/,
    );
    expect(environment.VETTID_KMS_SUBSCRIPTION_KEY_ARN).toMatch(
      /^<import:vettid-dev-infrastructure:.*SubscriptionSigningKey.*Arn.*>$/,
    );
    expect(environment.VETTID_BUCKET_VOTE_LISTS).toBe(
      "vettid-dev-vote-lists-<AWS::AccountId>-eu-west-1",
    );
    expect(environment.VETTID_BUCKET_VOTE_LISTS_PREFIX).toBe("");
    expect(environment.VETTID_VOTE_LISTS_PUBLIC_URL).toBe(config.workers.voteListsPublicUrl);
    expect(JSON.parse(environment.VETTID_ENCLAVE_PCR_SETS ?? "")).toEqual(
      config.attestation.measurements.map((m) => ({
        id: m.label,
        pcrs: { "0": m.imageSha384, ...m.pcrs },
      })),
    );
  });

  it("get a voting configuration the worker accepts, in production too", () => {
    for (const name of ["dev", "prod"]) {
      const built = buildStacks(configFor(name));
      const t = Template.fromStack(built.stacks.workers);
      // Deploy-time values (key ARNs, the account in the bucket name) get stand-ins of their form.
      const env = Object.fromEntries(
        Object.entries(containerEnvironment(t)).map(([name, value]) => [
          name,
          value
            .replace(
              /^<import:.*ProposalSigningKey.*>$/,
              "arn:aws:kms:eu-west-1:123456789012:key/p",
            )
            .replace(
              /^<import:.*SubscriptionSigningKey.*>$/,
              "arn:aws:kms:eu-west-1:123456789012:key/s",
            )
            .replace("<AWS::AccountId>", "123456789012"),
        ]),
      );
      const voting = readVotingWorkerConfig(env, { production: name === "prod" });
      expect(voting?.bucket, name).toBe(`vettid-${name}-vote-lists-123456789012-eu-west-1`);
      expect(voting?.publicUrl, name).toBe(configFor(name).workers.voteListsPublicUrl);
    }
  });

  it("may sign with the proposal and subscription keys (Sign, GetPublicKey) and nothing more in KMS", () => {
    const kms = taskStatements.filter((s) => actions(s).some((a) => a.startsWith("kms:")));
    expect(kms).toHaveLength(1);
    expect(actions(kms[0] as (typeof kms)[number]).sort()).toEqual([
      "kms:GetPublicKey",
      "kms:Sign",
    ]);
    const keys = resources(kms[0] as (typeof kms)[number]);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/ProposalSigningKey/);
    expect(keys[1]).toMatch(/SubscriptionSigningKey/);
    expect(keys).toEqual([
      environment.VETTID_KMS_PROPOSAL_KEY_ARN,
      environment.VETTID_KMS_SUBSCRIPTION_KEY_ARN,
    ]);
  });

  it("may write only the vote-lists bucket (no version deletion) and list only it", () => {
    const s3 = taskStatements.filter((s) => actions(s).some((a) => a.startsWith("s3:")));
    const bucketArn = "arn:<AWS::Partition>:s3:::vettid-dev-vote-lists-<AWS::AccountId>-eu-west-1";
    const writes = s3.filter((s) => actions(s).includes("s3:PutObject"));
    expect(writes.flatMap(resources)).toEqual([`${bucketArn}/*`]);
    expect(s3.filter((s) => actions(s).includes("s3:ListBucket")).flatMap(resources)).toEqual([
      bucketArn,
    ]);
    for (const s of s3) {
      expect(resources(s).every((r) => r.startsWith(bucketArn))).toBe(true);
      expect(actions(s)).not.toContain("s3:DeleteObjectVersion");
    }
  });
});
