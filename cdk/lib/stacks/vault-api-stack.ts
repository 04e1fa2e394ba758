import { CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import {
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  type HttpStage,
  LogGroupLogDestination,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { TABLES, type TableKey, tableName } from "../../../server/storage/tables.js";
import {
  BACKEND_FUNCTIONS,
  type BackendFunction,
  type BackendResourceNames,
  type BucketKey,
  backendEnvironment,
  functionRoutes,
  type SecretKey,
  type SigningKeyKey,
  validateBackendAccess,
} from "../config/backend-access.js";
import type { EnvironmentConfig } from "../config/environment-config.js";
import { resourcePrefix } from "../config/names.js";
import { BackendFunctionConstruct } from "../constructs/backend-function.js";
import { suppress } from "../constructs/nag.js";
import {
  type BackendResources,
  bucketNameIn,
  grantResourceAccess,
} from "../constructs/resource-grants.js";

/** Props of {@link VaultApiStack}. */
export interface VaultApiStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /** The Infrastructure stack's tables, buckets, keys and secrets. */
  readonly resources: BackendResources;
  /** The functions to deploy; default the whole catalogue. */
  readonly functions?: readonly BackendFunction[];
}

/** Headers a Connect client sends; the admin portal needs them allowed cross-origin. */
export const CONNECT_REQUEST_HEADERS: readonly string[] = [
  "content-type",
  "connect-protocol-version",
  "connect-timeout-ms",
  "authorization",
];

/** Browsers may cache a CORS preflight for 10 minutes: few preflights, quick origin changes. */
export const CORS_MAX_AGE = Duration.minutes(10);

/** The names every backend process's environment variables are filled from. */
export function backendResourceNames(
  scope: Construct,
  config: EnvironmentConfig,
  resources: BackendResources,
): BackendResourceNames {
  const map = <K extends string, V, R>(record: Readonly<Record<K, V>>, f: (v: V, k: K) => R) =>
    Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v as V, k as K)])) as Record<
      K,
      R
    >;
  return {
    environment: config.name,
    natsUrls: [`tls://${config.nats.publicHostname}:443`],
    tableNames: map(TABLES, (_def, key: TableKey) => tableName(config.name, key)),
    bucketNames: {
      vaultBlobs: bucketNameIn(scope, config.name, "vaultBlobs"),
      voteLists: bucketNameIn(scope, config.name, "voteLists"),
      backups: bucketNameIn(scope, config.name, "backups"),
      artifacts: bucketNameIn(scope, config.name, "artifacts"),
    } satisfies Record<BucketKey, string>,
    signingKeyArns: map(resources.signingKeys, (k, _n: SigningKeyKey) => k.keyArn),
    secretArns: map(resources.secrets, (s, _n: SecretKey) => s.secretArn),
    settings: {
      natsAccountPublicKey: config.nats.accountPublicKey,
      enclavePcrSets: JSON.stringify(
        config.attestation.measurements.map((m) => ({
          id: m.label,
          pcrs: { "0": m.imageSha384, ...m.pcrs },
        })),
      ),
      voteListsPublicUrl: config.workers.voteListsPublicUrl,
    },
  };
}

/**
 * The backend's HTTP API: one Lambda per Connect service (bundled from `server/lambda/entries/`),
 * each route `POST /{package}.{Service}/{Method}`, each function with exactly the access its
 * catalogue entry lists (`cdk/lib/config/backend-access.ts`). Throttled, access-logged.
 */
export class VaultApiStack extends Stack {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  /** The functions, by catalogue id. */
  readonly functions: Readonly<Record<string, NodejsFunction>>;

  constructor(scope: Construct, id: string, props: VaultApiStackProps) {
    super(scope, id, props);
    const { config, resources } = props;
    const specs = props.functions ?? BACKEND_FUNCTIONS;
    validateBackendAccess(specs);
    const prefix = resourcePrefix(config.name);
    const names = backendResourceNames(this, config, resources);

    const origins = config.api.corsAllowedOrigins;
    this.api = new HttpApi(this, "Api", {
      apiName: `${prefix}-backend`,
      description: "VettID backend: Connect-protocol unary endpoints (HTTP-only services).",
      createDefaultStage: false,
      ...(origins.length === 0
        ? {}
        : {
            corsPreflight: {
              allowOrigins: [...origins],
              allowMethods: [CorsHttpMethod.POST],
              allowHeaders: [...CONNECT_REQUEST_HEADERS],
              maxAge: CORS_MAX_AGE,
            },
          }),
    });
    const accessLogs = new LogGroup(this, "AccessLogs", { retention: config.logRetentionDays });
    this.stage = this.api.addStage("DefaultStage", {
      stageName: "$default",
      autoDeploy: true,
      throttle: {
        rateLimit: config.api.throttleRateLimit,
        burstLimit: config.api.throttleBurstLimit,
      },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: "$context.requestId",
            ip: "$context.identity.sourceIp",
            requestTime: "$context.requestTime",
            routeKey: "$context.routeKey",
            status: "$context.status",
            protocol: "$context.protocol",
            responseLength: "$context.responseLength",
            responseLatency: "$context.responseLatency",
            integrationError: "$context.integrationErrorMessage",
          }),
        ),
      },
    });

    const functions: Record<string, NodejsFunction> = {};
    for (const spec of specs) {
      const fn = new BackendFunctionConstruct(this, `Fn-${spec.id}`, {
        spec,
        functionName: `${prefix}-${spec.id}`,
        environment: backendEnvironment(spec, names),
        logRetentionDays: config.logRetentionDays,
      });
      grantResourceAccess(fn.role, spec, resources);
      const integration = new HttpLambdaIntegration(`Integration-${spec.id}`, fn.function);
      for (const path of functionRoutes(spec)) {
        this.api.addRoutes({ path, methods: [HttpMethod.POST], integration });
      }
      suppress(fn, [
        [
          "AwsSolutions-L1",
          "Node.js 20 is the project's runtime (package.json engines); it moves with the whole project, not per function.",
        ],
      ]);
      functions[spec.id] = fn.function;
    }
    this.functions = functions;

    suppress(this.api, [
      [
        "AwsSolutions-APIG4",
        "Connect endpoints authenticate inside the handler: enrollment by invitation and device attestation, credential and backup calls by DeviceProof, admin proposal calls by bearer token; vote lists and proposal reads are public by design.",
      ],
    ]);

    new CfnOutput(this, "ApiUrl", {
      value: this.api.apiEndpoint,
      description: "Base URL of the Connect endpoints: POST {ApiUrl}/{package}.{Service}/{Method}",
    });
  }
}
