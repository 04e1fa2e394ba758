import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { type TableKey, tableName } from "../../server/storage/tables.js";
import { BACKEND_WORKERS, tableEnvName } from "../lib/config/backend-access.js";
import { WORKERS_COMMAND } from "../lib/stacks/workers-stack.js";
import { actions, buildStacks, configFor, resources, roleStatements } from "./support.js";

const config = configFor("dev");
const { stacks } = buildStacks(config);
const template = Template.fromStack(stacks.workers);
const task = Object.values(template.findResources("AWS::ECS::TaskDefinition"))[0];
const container = task?.Properties.ContainerDefinitions[0];

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
});
