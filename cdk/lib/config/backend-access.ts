/**
 * Least privilege in one place: every backend Lambda (entry file, export, Connect routes) and the
 * backend's NATS workers, with exactly the tables, buckets, signing keys and secrets each may
 * touch, and the environment variables that name them. The Vault/API and Workers stacks build
 * their IAM policies from this file and nothing else, so reviewing access means reading this page.
 */
import { TABLES, type TableKey } from "../../../server/storage/tables.js";

/** Read only, or read and write (no table or bucket administration for anyone). */
export type Access = "read" | "readWrite";

/** The S3 buckets of the Infrastructure stack. */
export type BucketKey = "vaultBlobs" | "voteLists" | "backups" | "artifacts";

/** The asymmetric KMS keys the backend signs with (ECDSA P-256, `signature.proto`). */
export type SigningKeyKey = "proposal" | "subscription";

/**
 * Secrets Manager secrets of the NATS credentials model (`server/nats-auth`, `docs/security.md`):
 * - `natsMemberSigningKey`: the VETTID account's scoped member signing key (seed); mints member users.
 * - `natsBackendUser`: the backend service user (JWT and seed, `.creds` text).
 * - `natsParentUser`: the enclave hosts' parent user (JWT and seed, `.creds` text).
 * - `natsServerConfig`: the operator-mode text for nats-server (`operatorModeConfig()`: operator
 *   JWT, system account, resolver preload with the latest account JWTs). Public JWTs, kept as a
 *   secret because it outgrows SSM parameters and must change atomically.
 * - `natsTls`: nats-server's TLS certificate chain and private key (JSON `{ "cert", "key" }`, PEM).
 * The operator identity key, the operator signing key and the account's service signing key are
 * kept offline by the operators and are never in AWS.
 */
export type SecretKey =
  | "natsMemberSigningKey"
  | "natsBackendUser"
  | "natsParentUser"
  | "natsServerConfig"
  | "natsTls";

/**
 * Deployment settings a process may need besides resources:
 * - `natsAccountPublicKey`: the VETTID account member JWTs are issued in (`VETTID_NATS_ACCOUNT_PUBLIC_KEY`);
 * - `enclavePcrSets`: the accepted enclave builds, the same as the sealing key policy's
 *   (`VETTID_ENCLAVE_PCR_SETS`, JSON `[{"id", "pcrs": {"0": hex, …}}]`);
 * - `voteListsPublicUrl`: the public base URL of the published vote lists
 *   (`VETTID_VOTE_LISTS_PUBLIC_URL`, `workers.voteListsPublicUrl`).
 */
export type BackendSetting = "natsAccountPublicKey" | "enclavePcrSets" | "voteListsPublicUrl";

/** Access to one bucket, limited to a key prefix. */
export interface BucketAccess {
  readonly access: Access;
  /** Key prefix the grant covers, ending in `/`; `""` = the whole bucket. */
  readonly prefix: string;
}

/** What one backend process may touch. */
export interface ResourceAccess {
  readonly tables: Readonly<Partial<Record<TableKey, Access>>>;
  readonly buckets: Readonly<Partial<Record<BucketKey, BucketAccess>>>;
  /** Keys it may `kms:Sign` with and read the public key of (`kms:GetPublicKey`). */
  readonly signingKeys: readonly SigningKeyKey[];
  /** Secrets it may read (`secretsmanager:GetSecretValue`). */
  readonly secrets: readonly SecretKey[];
  /** Whether it connects to NATS (gets `VETTID_NATS_URLS`). */
  readonly nats: boolean;
  /** Deployment settings it reads. */
  readonly settings: readonly BackendSetting[];
}

/** One backend Lambda: a Connect service's unary methods behind the HTTP API. */
export interface BackendFunction extends ResourceAccess {
  /** Logical id (kebab-case), also the function name suffix: `vettid-{env}-{id}`. */
  readonly id: string;
  readonly description: string;
  /** Entry file, relative to the repository root. */
  readonly entry: string;
  /** The exported handler (API Gateway HTTP API v2 event → result). */
  readonly exportName: string;
  /** Fully qualified Connect service name; routes are `POST /{service}/{method}`. */
  readonly service: string;
  readonly methods: readonly string[];
  /** Methods that need an admin bearer token (checked by the handler). */
  readonly adminMethods?: readonly string[];
  readonly timeoutSeconds: number;
  readonly memoryMiB: number;
}

/** A long-running backend process on ECS Fargate. */
export interface BackendWorker extends ResourceAccess {
  readonly id: string;
  readonly description: string;
  /** Entry file relative to the repository root (built into the app image). */
  readonly entry: string;
}

/**
 * Lambda timeout for calls that stay inside AWS (DynamoDB, S3, KMS): 10 s, well above their
 * latency, well below the HTTP API's 30 s integration limit.
 */
export const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 10;

/**
 * Timeout for enrollment, which calls the enclave over NATS (attestation, sealed provisioning):
 * 25 s, the RPC deadline plus margin, still under the HTTP API's 30 s integration limit.
 */
export const ENROLLMENT_TIMEOUT_SECONDS = 25;

/** Memory of a backend Lambda: 512 MiB (ARM64); CPU scales with memory, and signing is CPU-bound. */
export const DEFAULT_FUNCTION_MEMORY_MIB = 512;

/** Every backend Lambda. Routes follow `docs/subjects.md` "HTTP-only services". */
export const BACKEND_FUNCTIONS: readonly BackendFunction[] = [
  {
    id: "enrollment",
    description:
      "EnrollmentService: invitation to member (device binding, enclave attestation, sealed credential creation, first NATS credentials).",
    entry: "server/lambda/entries/enrollment.ts",
    exportName: "handler",
    service: "vettid.enrollment.v1.EnrollmentService",
    methods: ["EnrollStart", "EnrollFinalize", "NatsBootstrap"],
    tables: {
      members: "readWrite",
      enrollmentSessions: "readWrite",
      invitations: "readWrite",
      natsTokens: "readWrite",
      revocations: "read",
      deviceProofNonces: "readWrite",
      rateLimits: "readWrite",
    },
    buckets: {},
    signingKeys: [],
    secrets: ["natsMemberSigningKey", "natsBackendUser"],
    nats: true,
    settings: ["natsAccountPublicKey", "enclavePcrSets"],
    timeoutSeconds: ENROLLMENT_TIMEOUT_SECONDS,
    memoryMiB: DEFAULT_FUNCTION_MEMORY_MIB,
  },
  {
    id: "member-credentials",
    description:
      "MemberCredentialService: renews an enrolled device's NATS credentials (DeviceProof).",
    entry: "server/lambda/entries/member-credentials.ts",
    exportName: "handler",
    service: "vettid.enrollment.v1.MemberCredentialService",
    methods: ["RefreshNatsCredentials"],
    tables: {
      members: "read",
      natsTokens: "readWrite",
      revocations: "read",
      deviceProofNonces: "readWrite",
      rateLimits: "readWrite",
    },
    buckets: {},
    signingKeys: [],
    secrets: ["natsMemberSigningKey"],
    nats: true,
    settings: ["natsAccountPublicKey"],
    timeoutSeconds: DEFAULT_FUNCTION_TIMEOUT_SECONDS,
    memoryMiB: DEFAULT_FUNCTION_MEMORY_MIB,
  },
  {
    id: "credential-backup",
    description:
      "CredentialBackupService: opaque credential backups and 24-hour delayed recovery to a new device.",
    entry: "server/lambda/entries/credential-backup.ts",
    exportName: "handler",
    service: "vettid.backup.v1.CredentialBackupService",
    methods: [
      "UploadCredentialBackup",
      "RequestRecovery",
      "CancelRecovery",
      "DownloadCredentialBackup",
    ],
    tables: {
      credentialBackups: "readWrite",
      members: "readWrite",
      deviceProofNonces: "readWrite",
      rateLimits: "readWrite",
    },
    buckets: { backups: { access: "readWrite", prefix: "credential-backups/" } },
    signingKeys: [],
    secrets: [],
    nats: false,
    settings: [],
    timeoutSeconds: DEFAULT_FUNCTION_TIMEOUT_SECONDS,
    memoryMiB: DEFAULT_FUNCTION_MEMORY_MIB,
  },
  {
    id: "proposals",
    description:
      "ProposalService: admins create (KMS-signed) and close proposals; anyone lists and reads them.",
    entry: "server/lambda/entries/proposals.ts",
    exportName: "handler",
    service: "vettid.voting.v1.ProposalService",
    methods: ["CreateProposal", "CloseProposal", "ListProposals", "GetProposal"],
    adminMethods: ["CreateProposal", "CloseProposal"],
    tables: { proposals: "readWrite", votes: "read", voteLists: "read" },
    buckets: {},
    signingKeys: ["proposal"],
    secrets: [],
    nats: false,
    settings: [],
    timeoutSeconds: DEFAULT_FUNCTION_TIMEOUT_SECONDS,
    memoryMiB: DEFAULT_FUNCTION_MEMORY_MIB,
  },
  {
    id: "vote-lists",
    description:
      "VoteListService: public, unauthenticated reads of published vote lists and Merkle inclusion proofs.",
    entry: "server/lambda/entries/vote-lists.ts",
    exportName: "handler",
    service: "vettid.voting.v1.VoteListService",
    methods: ["GetPublishedVoteList", "GetMerkleProof"],
    tables: { voteLists: "read", votes: "read", proposals: "read" },
    buckets: { voteLists: { access: "read", prefix: "" } },
    signingKeys: [],
    secrets: [],
    nats: false,
    settings: [],
    timeoutSeconds: DEFAULT_FUNCTION_TIMEOUT_SECONDS,
    memoryMiB: DEFAULT_FUNCTION_MEMORY_MIB,
  },
];

/**
 * The backend's NATS workers (`server/workers/main.ts`): the control-command audit trail and the
 * member revocations it applies; vote intake (`Backend.votes`: enclave key certificates checked
 * against the PCR sets and kept in the vote-lists bucket, votes stored), subscription statements
 * (`Backend.subscriptions`, signed with the subscription key, from the members table) and, every
 * minute, publication of vote lists once voting has ended (signed tree head with the proposal
 * key, list files to the vote-lists bucket, results on the proposal).
 */
export const BACKEND_WORKERS: BackendWorker = {
  id: "workers",
  description:
    "Backend NATS workers: vote intake, subscription statements, control audit, vote-list publication.",
  entry: "server/workers/main.ts",
  tables: {
    // Control audit and the revocations it applies (server/workers/backend-workers.ts).
    controlAudit: "readWrite",
    revocations: "readWrite",
    natsTokens: "read",
    members: "readWrite",
    // Vote intake and vote-list publication (server/workers/voting-workers.ts); subscription
    // statements and the eligible count read `members` (granted above for revocations).
    votes: "readWrite",
    proposals: "readWrite",
    voteLists: "readWrite",
  },
  // List files (`vote-lists/`) and enclave key certificates (`enclave-vote-keys/`): the whole
  // single-purpose bucket.
  buckets: { voteLists: { access: "readWrite", prefix: "" } },
  signingKeys: ["proposal", "subscription"],
  secrets: ["natsBackendUser"],
  nats: true,
  settings: ["enclavePcrSets", "voteListsPublicUrl"],
};

/** `VETTID_ENVIRONMENT`: the environment name (`tableName(environment, …)` gives every table). */
export const ENV_ENVIRONMENT = "VETTID_ENVIRONMENT";
/** `VETTID_NATS_URLS`: comma-separated NATS server URLs (`tls://host:443`). */
export const ENV_NATS_URLS = "VETTID_NATS_URLS";

/** The environment variable of each deployment setting. */
export const SETTING_ENV_NAMES: Readonly<Record<BackendSetting, string>> = {
  natsAccountPublicKey: "VETTID_NATS_ACCOUNT_PUBLIC_KEY",
  enclavePcrSets: "VETTID_ENCLAVE_PCR_SETS",
  voteListsPublicUrl: "VETTID_VOTE_LISTS_PUBLIC_URL",
};

/** `VETTID_TABLE_<NAME>` for a table: `enrollmentSessions` → `VETTID_TABLE_ENROLLMENT_SESSIONS`. */
export function tableEnvName(table: TableKey): string {
  return `VETTID_TABLE_${constantCase(table)}`;
}

/** `VETTID_BUCKET_<NAME>` (its `_PREFIX` variable holds the granted key prefix). */
export function bucketEnvName(bucket: BucketKey): string {
  return `VETTID_BUCKET_${constantCase(bucket)}`;
}

/** `VETTID_KMS_<NAME>_KEY_ARN` for a signing key. */
export function signingKeyEnvName(key: SigningKeyKey): string {
  return `VETTID_KMS_${constantCase(key)}_KEY_ARN`;
}

/** `VETTID_SECRET_<NAME>_ARN` for a secret. */
export function secretEnvName(secret: SecretKey): string {
  return `VETTID_SECRET_${constantCase(secret)}_ARN`;
}

function constantCase(camel: string): string {
  return camel.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** The physical names and ARNs the environment variables are filled from. */
export interface BackendResourceNames {
  readonly environment: string;
  readonly natsUrls: readonly string[];
  readonly tableNames: Readonly<Record<TableKey, string>>;
  readonly bucketNames: Readonly<Record<BucketKey, string>>;
  readonly signingKeyArns: Readonly<Record<SigningKeyKey, string>>;
  readonly secretArns: Readonly<Record<SecretKey, string>>;
  readonly settings: Readonly<Record<BackendSetting, string>>;
}

/**
 * The environment variables of a backend process: only the resources it may touch, so a handler
 * that reads a variable it was not given fails at start instead of meeting an IAM denial later.
 */
export function backendEnvironment(
  access: ResourceAccess,
  names: BackendResourceNames,
): Record<string, string> {
  const env: Record<string, string> = { [ENV_ENVIRONMENT]: names.environment };
  if (access.nats) env[ENV_NATS_URLS] = names.natsUrls.join(",");
  for (const table of Object.keys(access.tables) as TableKey[]) {
    env[tableEnvName(table)] = names.tableNames[table];
  }
  for (const [bucket, grant] of Object.entries(access.buckets) as [BucketKey, BucketAccess][]) {
    env[bucketEnvName(bucket)] = names.bucketNames[bucket];
    env[`${bucketEnvName(bucket)}_PREFIX`] = grant.prefix;
  }
  for (const key of access.signingKeys) env[signingKeyEnvName(key)] = names.signingKeyArns[key];
  for (const secret of access.secrets) env[secretEnvName(secret)] = names.secretArns[secret];
  for (const setting of access.settings) env[SETTING_ENV_NAMES[setting]] = names.settings[setting];
  return env;
}

/** The HTTP routes of a function: `POST /{service}/{method}` for each method. */
export function functionRoutes(fn: BackendFunction): string[] {
  return fn.methods.map((method) => `/${fn.service}/${method}`);
}

/** Checks the catalogue itself: unknown tables, duplicate ids or routes, bad prefixes. */
export function validateBackendAccess(
  functions: readonly BackendFunction[] = BACKEND_FUNCTIONS,
  workers: BackendWorker = BACKEND_WORKERS,
): void {
  const problems: string[] = [];
  const ids = new Set<string>();
  const routes = new Set<string>();
  for (const fn of functions) {
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(fn.id))
      problems.push(`function id ${fn.id} is not kebab-case`);
    if (ids.has(fn.id)) problems.push(`function id ${fn.id} appears twice`);
    ids.add(fn.id);
    if (!/^server\/[a-z0-9/-]+\.ts$/.test(fn.entry)) {
      problems.push(`${fn.id}: entry ${fn.entry} must be a .ts file under server/`);
    }
    for (const route of functionRoutes(fn)) {
      if (routes.has(route)) problems.push(`${fn.id}: route ${route} is served twice`);
      routes.add(route);
    }
    for (const m of fn.adminMethods ?? []) {
      if (!fn.methods.includes(m)) problems.push(`${fn.id}: admin method ${m} is not a method`);
    }
  }
  for (const who of [...functions, workers]) {
    for (const table of Object.keys(who.tables)) {
      if (!(table in TABLES)) problems.push(`${who.id}: unknown table ${table}`);
    }
    for (const [bucket, grant] of Object.entries(who.buckets)) {
      if (grant !== undefined && grant.prefix !== "" && !/^[a-z0-9-]+\/$/.test(grant.prefix)) {
        problems.push(
          `${who.id}: prefix ${JSON.stringify(grant.prefix)} of ${bucket} must end in /`,
        );
      }
      if (bucket === "vaultBlobs" || bucket === "artifacts") {
        problems.push(`${who.id}: the backend never touches the ${bucket} bucket`);
      }
    }
    if (who.secrets.includes("natsParentUser") || who.secrets.includes("natsTls")) {
      problems.push(`${who.id}: the backend never reads the parent's or the server's secrets`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`backend access catalogue is inconsistent:\n  - ${problems.join("\n  - ")}`);
  }
}
