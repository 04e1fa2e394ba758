import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { TABLES, type TableKey, tableName } from "../../server/storage/tables.js";
import {
  BACKEND_FUNCTIONS,
  type BackendFunction,
  bucketEnvName,
  ENV_ENVIRONMENT,
  ENV_NATS_URLS,
  functionRoutes,
  SETTING_ENV_NAMES,
  secretEnvName,
  signingKeyEnvName,
  tableEnvName,
} from "../lib/config/backend-access.js";
import { REPO_ROOT } from "../lib/constructs/backend-function.js";
import {
  OBJECT_READ_ACTIONS,
  OBJECT_WRITE_ACTIONS,
  SECRET_READ_ACTIONS,
  SIGNING_ACTIONS,
  TABLE_READ_ACTIONS,
  TABLE_WRITE_ACTIONS,
} from "../lib/constructs/resource-grants.js";
import { actions, buildStacks, configFor, resources, roleStatements } from "./support.js";

const config = configFor("dev");
const { stacks } = buildStacks(config);
const template = Template.fromStack(stacks.vaultApi);

/** The HTTP-only routes `docs/subjects.md` (generated from the schemas) lists. */
function documentedRoutes(): string[] {
  const doc = readFileSync(join(REPO_ROOT, "docs/subjects.md"), "utf8");
  const section = doc.slice(doc.indexOf("## HTTP-only services"));
  return [...section.matchAll(/\| `(\/[A-Za-z0-9.]+\/[A-Za-z0-9]+)` \|/g)].map(
    (m) => m[1] as string,
  );
}

function functionLogicalId(fn: BackendFunction): string {
  const found = Object.entries(template.findResources("AWS::Lambda::Function")).find(
    ([, f]) => f.Properties.FunctionName === `vettid-dev-${fn.id}`,
  );
  if (found === undefined) throw new Error(`no function ${fn.id}`);
  return found[0];
}

function roleIdOf(fn: BackendFunction): string {
  const logicalId = functionLogicalId(fn);
  const role = template.findResources("AWS::Lambda::Function")[logicalId]?.Properties.Role;
  return role["Fn::GetAtt"][0] as string;
}

describe("HTTP API", () => {
  it("serves exactly the HTTP-only services of docs/subjects.md, POST only", () => {
    const routes = Object.values(template.findResources("AWS::ApiGatewayV2::Route")).map(
      (r) => r.Properties.RouteKey as string,
    );
    expect(routes.sort()).toEqual(
      documentedRoutes()
        .map((path) => `POST ${path}`)
        .sort(),
    );
    expect(BACKEND_FUNCTIONS.flatMap(functionRoutes).sort()).toEqual(documentedRoutes().sort());
  });

  it("routes each method to its service's function", () => {
    for (const fn of BACKEND_FUNCTIONS) {
      const fnId = functionLogicalId(fn);
      const integrations = Object.entries(
        template.findResources("AWS::ApiGatewayV2::Integration"),
      ).filter(([, i]) => JSON.stringify(i.Properties.IntegrationUri).includes(fnId));
      expect(integrations, fn.id).toHaveLength(1);
      const integrationId = integrations[0]?.[0] as string;
      const routes = Object.values(template.findResources("AWS::ApiGatewayV2::Route"))
        .filter((r) => JSON.stringify(r.Properties.Target).includes(integrationId))
        .map((r) => r.Properties.RouteKey);
      expect(routes.sort(), fn.id).toEqual(
        functionRoutes(fn)
          .map((p) => `POST ${p}`)
          .sort(),
      );
    }
  });

  it("throttles and access-logs the default stage", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: config.api.throttleRateLimit,
        ThrottlingBurstLimit: config.api.throttleBurstLimit,
      },
      AccessLogSettings: {
        DestinationArn: Match.anyValue(),
        Format: Match.stringLikeRegexp("requestId"),
      },
    });
  });

  it("allows the admin portal's origin only, for POST with Connect's headers", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Api", {
      CorsConfiguration: {
        AllowOrigins: config.api.corsAllowedOrigins,
        AllowMethods: ["POST"],
        AllowHeaders: Match.arrayWith(["connect-protocol-version", "authorization"]),
      },
    });
  });
});

describe("backend Lambdas", () => {
  it("run Node.js 20 on ARM64 with their own log group", () => {
    for (const fn of BACKEND_FUNCTIONS) {
      template.hasResourceProperties("AWS::Lambda::Function", {
        FunctionName: `vettid-dev-${fn.id}`,
        Runtime: "nodejs20.x",
        Architectures: ["arm64"],
        Timeout: fn.timeoutSeconds,
        MemorySize: fn.memoryMiB,
        LoggingConfig: { LogGroup: Match.anyValue() },
      });
      template.hasResourceProperties("AWS::Logs::LogGroup", {
        LogGroupName: `/aws/lambda/vettid-dev-${fn.id}`,
        RetentionInDays: config.logRetentionDays,
      });
    }
  });

  it("get only the environment variables of the resources they may touch", () => {
    for (const fn of BACKEND_FUNCTIONS) {
      const env = template.findResources("AWS::Lambda::Function")[functionLogicalId(fn)]?.Properties
        .Environment.Variables as Record<string, unknown>;
      const expected = [
        "NODE_OPTIONS",
        ENV_ENVIRONMENT,
        ...(fn.nats ? [ENV_NATS_URLS] : []),
        ...Object.keys(fn.tables).map((t) => tableEnvName(t as TableKey)),
        ...Object.keys(fn.buckets).flatMap((b) => [
          bucketEnvName(b as never),
          `${bucketEnvName(b as never)}_PREFIX`,
        ]),
        ...fn.signingKeys.map(signingKeyEnvName),
        ...fn.secrets.map(secretEnvName),
        ...fn.settings.map((setting) => SETTING_ENV_NAMES[setting]),
        // The Parameters and Secrets extension's own settings, where a secret is read.
        ...(fn.secrets.length > 0
          ? [
              "PARAMETERS_SECRETS_EXTENSION_CACHE_ENABLED",
              "PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE",
              "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT",
              "PARAMETERS_SECRETS_EXTENSION_LOG_LEVEL",
              "PARAMETERS_SECRETS_EXTENSION_MAX_CONNECTIONS",
              "SECRETS_MANAGER_TIMEOUT_MILLIS",
              "SECRETS_MANAGER_TTL",
              "SSM_PARAMETER_STORE_TIMEOUT_MILLIS",
              "SSM_PARAMETER_STORE_TTL",
            ]
          : []),
      ];
      expect(Object.keys(env).sort(), fn.id).toEqual(expected.sort());
      expect(env[ENV_ENVIRONMENT]).toBe("dev");
      for (const table of Object.keys(fn.tables) as TableKey[]) {
        expect(env[tableEnvName(table)]).toBe(tableName("dev", table));
      }
      if (fn.nats) expect(env[ENV_NATS_URLS]).toBe(`tls://${config.nats.publicHostname}:443`);
      if (fn.settings.includes("natsAccountPublicKey")) {
        expect(env[SETTING_ENV_NAMES.natsAccountPublicKey]).toBe(config.nats.accountPublicKey);
      }
      if (fn.settings.includes("enclavePcrSets")) {
        expect(JSON.parse(String(env[SETTING_ENV_NAMES.enclavePcrSets]))).toEqual(
          config.attestation.measurements.map((m) => ({
            id: m.label,
            pcrs: { "0": m.imageSha384, ...m.pcrs },
          })),
        );
      }
    }
  });

  it("carry the Parameters and Secrets extension where they read a secret", () => {
    for (const fn of BACKEND_FUNCTIONS) {
      const layers =
        template.findResources("AWS::Lambda::Function")[functionLogicalId(fn)]?.Properties.Layers;
      expect(layers === undefined ? 0 : layers.length, fn.id).toBe(fn.secrets.length > 0 ? 1 : 0);
    }
  });
});

describe("least privilege", () => {
  for (const fn of BACKEND_FUNCTIONS) {
    it(`${fn.id}: exactly the tables, buckets, keys and secrets of its catalogue entry`, () => {
      const statements = roleStatements(template, roleIdOf(fn));
      expect(statements.every((s) => s.Effect === "Allow")).toBe(true);
      for (const s of statements) {
        for (const a of actions(s)) expect(a, `${fn.id} ${a}`).not.toContain("*");
      }
      // Tables: one statement each, on the table and its named indexes, with the right actions.
      const tableStatements = statements.filter((s) => actions(s).includes("dynamodb:GetItem"));
      const granted = new Map(
        tableStatements.map((s) => [resources(s)[0]?.replace(/^.*:table\//, ""), s]),
      );
      expect([...granted.keys()].sort()).toEqual(
        Object.keys(fn.tables)
          .map((t) => tableName("dev", t as TableKey))
          .sort(),
      );
      for (const [table, access] of Object.entries(fn.tables) as [TableKey, string][]) {
        const s = granted.get(tableName("dev", table));
        expect(actions(s as never).sort()).toEqual(
          [...TABLE_READ_ACTIONS, ...(access === "readWrite" ? TABLE_WRITE_ACTIONS : [])].sort(),
        );
        const indexes = (
          (TABLES[table] as { globalIndexes?: { name: string }[] }).globalIndexes ?? []
        ).map((i) => `:table/${tableName("dev", table)}/index/${i.name}`);
        expect(
          resources(s as never)
            .slice(1)
            .map((r) => r.replace(/^.*(:table\/)/, "$1")),
        ).toEqual(indexes);
      }
      // Buckets: objects under the granted prefix only; listing of that prefix only.
      const objectStatements = statements.filter((s) => actions(s).includes("s3:GetObject"));
      expect(objectStatements).toHaveLength(Object.keys(fn.buckets).length);
      for (const [bucket, grant] of Object.entries(fn.buckets)) {
        const purpose = {
          vaultBlobs: "vault-blobs",
          voteLists: "vote-lists",
          backups: "backups",
          artifacts: "artifacts",
        }[bucket];
        const s = objectStatements.find((x) => resources(x)[0]?.includes(`vettid-dev-${purpose}-`));
        expect(resources(s as never)).toEqual([
          `arn:<AWS::Partition>:s3:::vettid-dev-${purpose}-<AWS::AccountId>-eu-west-1/${grant?.prefix}*`,
        ]);
        expect(actions(s as never).sort()).toEqual(
          [
            ...OBJECT_READ_ACTIONS,
            ...(grant?.access === "readWrite" ? OBJECT_WRITE_ACTIONS : []),
          ].sort(),
        );
      }
      expect(statements.some((s) => actions(s).some((a) => a === "s3:DeleteObjectVersion"))).toBe(
        false,
      );
      // Keys and secrets.
      const signing = statements.filter((s) => actions(s).includes("kms:Sign"));
      expect(signing.length).toBe(fn.signingKeys.length > 0 ? 1 : 0);
      if (fn.signingKeys.length > 0) {
        expect(actions(signing[0] as never)).toEqual([...SIGNING_ACTIONS]);
        expect(resources(signing[0] as never)).toHaveLength(fn.signingKeys.length);
      }
      const secrets = statements.filter((s) =>
        actions(s).includes("secretsmanager:GetSecretValue"),
      );
      expect(secrets.length).toBe(fn.secrets.length > 0 ? 1 : 0);
      if (fn.secrets.length > 0) {
        expect(actions(secrets[0] as never)).toEqual([...SECRET_READ_ACTIONS]);
        expect(resources(secrets[0] as never)).toHaveLength(fn.secrets.length);
      }
      // Nothing on the sealing key, ever.
      expect(statements.some((s) => actions(s).some((a) => a === "kms:Decrypt"))).toBe(false);
      // And its own log group only.
      const logs = statements.filter((s) => actions(s).some((a) => a.startsWith("logs:")));
      expect(logs).toHaveLength(1);
      expect(actions(logs[0] as never)).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
      // Every statement is one of the above.
      expect(statements.length).toBe(
        tableStatements.length +
          objectStatements.length * 2 +
          signing.length +
          secrets.length +
          logs.length,
      );
    });
  }

  it("uses no AWS managed policies", () => {
    for (const role of Object.values(template.findResources("AWS::IAM::Role"))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});
