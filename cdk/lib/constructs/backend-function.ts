import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, Stack, Validations } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import {
  Architecture,
  Code,
  ParamsAndSecretsLayerVersion,
  ParamsAndSecretsVersions,
  Runtime,
} from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { BackendFunction } from "../config/backend-access.js";

/** The repository root (entries in the catalogue are relative to it). */
export const REPO_ROOT = resolve(fileURLToPath(new URL("../../../", import.meta.url)));

/** Node 20: the project's runtime (`engines`), the same on Lambda, Fargate and the enclave hosts. */
export const BACKEND_RUNTIME = Runtime.NODEJS_20_X;

/** ARM64 (Graviton): cheaper per request than x86 for the same Node code; nothing native is bundled. */
export const BACKEND_ARCHITECTURE = Architecture.ARM_64;

/**
 * ESM output needs `require` for the CommonJS packages esbuild inlines (the AWS SDK's
 * dependencies); this banner provides it.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __vettidCreateRequire } from 'node:module'; const require = __vettidCreateRequire(import.meta.url);";

/** Props of {@link BackendFunctionConstruct}. */
export interface BackendFunctionProps {
  readonly spec: BackendFunction;
  readonly functionName: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetentionDays: number;
}

/**
 * One backend Lambda from the catalogue: bundled with local esbuild from the project's own entry
 * file (ESM, Node 20, ARM64, source maps), its own role that can only write its own log group
 * (the stack adds the catalogue's grants), and its own log group with the environment's retention.
 *
 * When the stack's assets are not bundled (`aws:cdk:bundling-stacks` excludes it, as in the
 * tests) and the entry file does not exist yet, the code is a placeholder, so the rest of the
 * app can be synthesised and checked; a real synth with bundling refuses a missing entry.
 */
export class BackendFunctionConstruct extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: BackendFunctionProps) {
    super(scope, id);
    const { spec } = props;
    const entry = join(REPO_ROOT, spec.entry);
    const entryExists = existsSync(entry);
    if (!entryExists && Stack.of(this).bundlingRequired) {
      throw new Error(
        `Lambda entry ${spec.entry} (function ${spec.id}) does not exist: the backend's entry points must be present to bundle it (cdk/lib/config/backend-access.ts)`,
      );
    }
    this.logGroup = new LogGroup(this, "Logs", {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.logRetentionDays,
    });
    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `Runs ${props.functionName}: its log group plus the grants in backend-access.ts`,
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, "Function", {
      functionName: props.functionName,
      description: spec.description.slice(0, 256),
      runtime: BACKEND_RUNTIME,
      architecture: BACKEND_ARCHITECTURE,
      memorySize: spec.memoryMiB,
      timeout: Duration.seconds(spec.timeoutSeconds),
      role: this.role,
      logGroup: this.logGroup,
      // Secrets are read through the AWS Parameters and Secrets Lambda Extension
      // (server/config/secrets.ts): cached, and no Secrets Manager client in the bundle.
      ...(spec.secrets.length === 0
        ? {}
        : {
            paramsAndSecrets: ParamsAndSecretsLayerVersion.fromVersion(
              ParamsAndSecretsVersions.V1_0_103,
            ),
          }),
      environment: { NODE_OPTIONS: "--enable-source-maps", ...props.environment },
      ...(entryExists
        ? {
            entry,
            handler: spec.exportName,
            projectRoot: REPO_ROOT,
            depsLockFilePath: join(REPO_ROOT, "package-lock.json"),
            bundling: {
              forceDockerBundling: false,
              format: OutputFormat.ESM,
              target: "node20",
              mainFields: ["module", "main"],
              banner: ESM_REQUIRE_BANNER,
              sourceMap: true,
              minify: true,
              // Bundle the pinned AWS SDK instead of the runtime's, so what runs is what was tested.
              bundleAwsSDK: true,
              tsconfig: join(REPO_ROOT, "tsconfig.json"),
            },
          }
        : {
            code: Code.fromInline(
              `export const ${spec.exportName} = async () => { throw new Error("placeholder: ${spec.entry} was not bundled"); };`,
            ),
            handler: `index.${spec.exportName}`,
          }),
    });
    Validations.of(this.function).acknowledge({
      id: "CloudFormation-Validate::W2531",
      reason:
        "Node.js 20 is the runtime the project targets (package.json engines) and the brief asks for; moving to nodejs22.x is one constant (BACKEND_RUNTIME), before creation is disabled on 2027-02-01.",
    });
  }
}
