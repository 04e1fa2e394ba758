/**
 * The configuration of one deployment environment (dev, prod, …), read from the CDK context
 * (`cdk.json` → `vettid:environments`) and validated in full before any construct is built
 * ({@link parseEnvironmentConfig}). Every stack takes the resolved {@link EnvironmentConfig}; no
 * stack reads the context itself.
 */

import { LONGEST_BUCKET_PURPOSE } from "./names.js";

/** One accepted enclave measurement: the PCR values KMS must see in the recipient attestation. */
export interface EnclaveMeasurement {
  /** Names the build in the key policy's statement id and in the docs, e.g. `2026.05.1`. */
  readonly label: string;
  /**
   * SHA-384 of the enclave image (`kms:RecipientAttestation:ImageSha384`), lowercase hex: the
   * `PCR0` that `nitro-cli build-enclave` prints.
   */
  readonly imageSha384: string;
  /** Optional further PCRs KMS must match (`kms:RecipientAttestation:PCR<n>`): 1 kernel, 2 app, 8 signing certificate. */
  readonly pcrs: Readonly<Partial<Record<AttestedPcr, string>>>;
}

/** PCRs the sealing key policy may name besides the image hash. */
export type AttestedPcr = 1 | 2 | 3 | 4 | 8;

/** The resolved configuration of one environment. */
export interface EnvironmentConfig {
  /** Environment name, the `{environment}` in table names (`vettid-dev-members`). */
  readonly name: string;
  /** Whether this is production: stricter defaults (retention, NAT per AZ) are checked. */
  readonly production: boolean;
  /** AWS account id; absent = environment-agnostic account (resolved at deploy). */
  readonly account?: string;
  /** AWS region, e.g. `eu-west-1`. Always explicit: nothing is looked up at synth time. */
  readonly region: string;
  /** Availability zones to use (2 or 3, all in {@link region}): explicit, so synth needs no lookup. */
  readonly availabilityZones: readonly string[];
  /** The VPC. */
  readonly network: {
    /** IPv4 CIDR of the VPC, /16 to /22. */
    readonly cidr: string;
    /** NAT gateways: 1 (cheap, dev) up to one per availability zone (prod). */
    readonly natGateways: number;
  };
  /** Days to keep CloudWatch Logs (Lambda, API access logs, containers, flow logs, enclave host). */
  readonly logRetentionDays: number;
  /** Address that receives alarm notifications; absent = the topic has no subscriber yet. */
  readonly alarmEmail?: string;
  /** The HTTP API in front of the backend Lambdas. */
  readonly api: {
    /** Steady-state requests per second across the API (stage throttle). */
    readonly throttleRateLimit: number;
    /** Burst requests across the API (stage throttle). */
    readonly throttleBurstLimit: number;
    /** Origins the admin portal is served from (CORS); empty = no browser access. */
    readonly corsAllowedOrigins: readonly string[];
  };
  /** The central NATS cluster. */
  readonly nats: {
    /** DNS name apps and services connect to (`tls://{publicHostname}:443`); the TLS certificate's name. */
    readonly publicHostname: string;
    /** Public key (`A…`) of the VETTID account member users belong to (from `server/nats-auth`). */
    readonly accountPublicKey: string;
    /** Container image of nats-server (pin a version, ideally a digest). */
    readonly image: string;
    /** Cluster size: 1 (dev) or an odd number of 3 or more (prod). */
    readonly nodeCount: number;
    /** Fargate CPU units per node (256, 512, 1024, 2048, 4096). */
    readonly cpu: number;
    /** Fargate memory per node, MiB. */
    readonly memoryMiB: number;
  };
  /** The backend's long-running NATS workers (`server/workers/main.ts`) on ECS Fargate. */
  readonly workers: {
    /** Tasks running (queue groups share the work). */
    readonly desiredCount: number;
    readonly cpu: number;
    readonly memoryMiB: number;
    /**
     * Public HTTPS base URL of the published vote lists, ending in `/`: the workers record
     * `{voteListsPublicUrl}vote-lists/{id}.binpb` as `ProposalResults.vote_list_url`, so this
     * origin must serve the vote-lists bucket's objects (`VETTID_VOTE_LISTS_PUBLIC_URL`).
     */
    readonly voteListsPublicUrl: string;
  };
  /** The Nitro Enclave hosts. */
  readonly nitro: {
    /** EC2 instance type; must support Nitro Enclaves (see {@link ENCLAVE_INSTANCE_TYPES}). */
    readonly instanceType: string;
    readonly minCapacity: number;
    readonly maxCapacity: number;
    /** Memory given to the enclave (allocator `memory_mib` and `--memory`), MiB. */
    readonly enclaveMemoryMiB: number;
    /** vCPUs given to the enclave (allocator `cpu_count` and `--cpu-count`); whole cores. */
    readonly enclaveCpuCount: number;
    /**
     * The enclave id the pool's parents use: `Control.enclave.{enclaveId}` and the `EnclaveId`
     * metric dimension. One NATS subject token.
     */
    readonly enclaveId: string;
    /** Whether operators may open shell sessions on the hosts through SSM Session Manager. */
    readonly sessionManager: boolean;
  };
  /** What the enclave hosts run: the artifacts in the artifacts bucket under `releases/{version}/`. */
  readonly release: {
    /** Release version: the folder in the artifacts bucket and the workers' image tag. */
    readonly version: string;
    /** SHA-256 (lowercase hex) of `vettid-app.tar.gz`, checked on the host before it is unpacked. */
    readonly appBundleSha256: string;
    /**
     * PCR0 of `vettid-enclave.eif`, checked on the host (`nitro-cli describe-eif`) before the
     * enclave starts. Must be one of {@link attestation}'s accepted image hashes.
     */
    readonly enclaveImageSha384: string;
  };
  /** The enclave builds the vault sealing key accepts (more than one only during a rollout). */
  readonly attestation: {
    readonly measurements: readonly EnclaveMeasurement[];
  };
}

/** An instance type that supports Nitro Enclaves: its vCPUs and memory, and whether it is SMT. */
export interface EnclaveInstanceType {
  readonly vcpus: number;
  readonly memoryMiB: number;
}

/**
 * Instance types accepted for enclave hosts. The list is short on purpose: each was checked to
 * support Nitro Enclaves, and its size lets {@link parseEnvironmentConfig} check the enclave's
 * share. Add a type here (with its vCPUs and memory) to use it.
 */
export const ENCLAVE_INSTANCE_TYPES: Readonly<Record<string, EnclaveInstanceType>> = {
  "c6a.xlarge": { vcpus: 4, memoryMiB: 8192 },
  "c6a.2xlarge": { vcpus: 8, memoryMiB: 16384 },
  "c6a.4xlarge": { vcpus: 16, memoryMiB: 32768 },
  "c6i.2xlarge": { vcpus: 8, memoryMiB: 16384 },
  "c6i.4xlarge": { vcpus: 16, memoryMiB: 32768 },
  "m6a.2xlarge": { vcpus: 8, memoryMiB: 32768 },
  "m6i.2xlarge": { vcpus: 8, memoryMiB: 32768 },
  "r6a.2xlarge": { vcpus: 8, memoryMiB: 65536 },
};

/** The design's enclave host: `c6a.2xlarge` (8 vCPUs, 16 GiB), sized for 12 GiB / 6 vCPUs of enclave. */
export const DEFAULT_ENCLAVE_INSTANCE_TYPE = "c6a.2xlarge";

/**
 * Enclave memory: 12 GiB, 75% of a c6a.2xlarge. The parent only relays ciphertext, so 4 GiB is
 * ample for it and the OS; the enclave holds ~100-150 active vaults in 12 GiB (design).
 */
export const DEFAULT_ENCLAVE_MEMORY_MIB = 12_288;

/**
 * Enclave vCPUs: 6 of 8. The parent is I/O-bound and AWS requires it to keep at least 2 vCPUs
 * (one full core), so 6 is the most the enclave can have on a c6a.2xlarge.
 */
export const DEFAULT_ENCLAVE_CPU_COUNT = 6;

/** The parent keeps at least one full core (2 vCPUs with SMT): AWS's minimum, and enough to route. */
export const MIN_PARENT_VCPUS = 2;

/**
 * The parent keeps at least 2 GiB: the OS, the CloudWatch agent and the parent's Node process
 * (which buffers at most a few in-flight vault blobs of at most 16 MiB each, `enclave/vsock`).
 */
export const MIN_PARENT_MEMORY_MIB = 2048;

/** Retention CloudWatch Logs accepts (days). */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
];

/** Fargate CPU units and the memory (MiB) each allows. */
const FARGATE_SIZES: Readonly<Record<number, readonly [number, number]>> = {
  256: [512, 2048],
  512: [1024, 4096],
  1024: [2048, 8192],
  2048: [4096, 16384],
  4096: [8192, 30720],
};

/** Thrown when the configuration is invalid; lists every problem, each naming its field. */
export class EnvironmentConfigError extends Error {
  constructor(
    readonly environment: string,
    readonly problems: readonly string[],
  ) {
    super(
      `invalid configuration for environment ${JSON.stringify(environment)}:\n${problems
        .map((p) => `  - ${p}`)
        .join("\n")}`,
    );
    this.name = "EnvironmentConfigError";
  }
}

const ENVIRONMENT_NAME = /^[a-z][a-z0-9-]{0,20}$/;
const SHA384_HEX = /^[0-9a-f]{96}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,128}$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const ACCOUNT = /^\d{12}$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const ORIGIN = /^https:\/\/[a-z0-9.-]+(:\d{1,5})?$/;
const PUBLIC_BASE_URL = /^https:\/\/[a-z0-9.-]+(:\d{1,5})?\/([A-Za-z0-9._~-]+\/)*$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const LABEL = /^[A-Za-z0-9._-]{1,40}$/;
const ACCOUNT_NKEY = /^A[A-Z2-7]{55}$/;
const IMAGE = /^[a-z0-9./_:@-]{1,255}$/;

/** Collects problems with a path prefix while reading an untyped object. */
class Reader {
  constructor(
    readonly problems: string[],
    private readonly path: string,
    private readonly value: Record<string, unknown>,
  ) {}

  static root(problems: string[], path: string, value: unknown): Reader | undefined {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      problems.push(`${path} must be an object, got ${describe(value)}`);
      return undefined;
    }
    return new Reader(problems, path, value as Record<string, unknown>);
  }

  at(key: string): string {
    return `${this.path}.${key}`;
  }

  object(key: string): Reader | undefined {
    return Reader.root(this.problems, this.at(key), this.value[key]);
  }

  has(key: string): boolean {
    return this.value[key] !== undefined;
  }

  raw(key: string): unknown {
    return this.value[key];
  }

  /** Reports keys the schema does not know, so a typo does not silently fall back to a default. */
  only(keys: readonly string[]): void {
    for (const key of Object.keys(this.value)) {
      if (!keys.includes(key)) {
        this.problems.push(`${this.at(key)} is not a known setting (known: ${keys.join(", ")})`);
      }
    }
  }

  string(key: string, pattern: RegExp, what: string): string {
    const value = this.value[key];
    if (typeof value !== "string" || !pattern.test(value)) {
      this.problems.push(`${this.at(key)} must be ${what}, got ${describe(value)}`);
      return "";
    }
    return value;
  }

  optionalString(key: string, pattern: RegExp, what: string): string | undefined {
    return this.value[key] === undefined ? undefined : this.string(key, pattern, what);
  }

  integer(key: string, min: number, max: number): number {
    const value = this.value[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      this.problems.push(
        `${this.at(key)} must be an integer from ${min} to ${max}, got ${describe(value)}`,
      );
      return min;
    }
    return value;
  }

  boolean(key: string): boolean {
    const value = this.value[key];
    if (typeof value !== "boolean") {
      this.problems.push(`${this.at(key)} must be true or false, got ${describe(value)}`);
      return false;
    }
    return value;
  }

  array(key: string, min: number, max: number): readonly unknown[] {
    const value = this.value[key];
    if (!Array.isArray(value) || value.length < min || value.length > max) {
      this.problems.push(
        `${this.at(key)} must be a list of ${min} to ${max} entries, got ${describe(value)}`,
      );
      return [];
    }
    return value;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function cidrProblem(cidr: string): string | undefined {
  const match = CIDR.exec(cidr);
  if (match === null) return "is not an IPv4 CIDR (a.b.c.d/n)";
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255)) return "has an octet over 255";
  if (prefix < 16 || prefix > 22) return "must have a prefix length from /16 to /22";
  const [a, b] = octets as [number, number, number, number];
  const isPrivate = a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  if (!isPrivate) return "must be in a private range (10/8, 172.16/12, 192.168/16)";
  return undefined;
}

function fargateProblem(cpu: number, memoryMiB: number): string | undefined {
  const range = FARGATE_SIZES[cpu];
  if (range === undefined) return `cpu must be one of ${Object.keys(FARGATE_SIZES).join(", ")}`;
  if (
    memoryMiB < range[0] ||
    memoryMiB > range[1] ||
    (memoryMiB % 1024 !== 0 && memoryMiB !== 512)
  ) {
    return `memoryMiB for ${cpu} CPU units must be ${range[0]}-${range[1]} in whole GiB`;
  }
  return undefined;
}

function readMeasurement(problems: string[], path: string, value: unknown): EnclaveMeasurement {
  const r = Reader.root(problems, path, value);
  if (r === undefined) return { label: "", imageSha384: "", pcrs: {} };
  r.only(["label", "imageSha384", "pcrs"]);
  const label = r.string("label", LABEL, "1-40 characters of A-Z a-z 0-9 . _ -");
  const imageSha384 = r.string("imageSha384", SHA384_HEX, "96 lowercase hex digits (SHA-384)");
  const pcrs: Partial<Record<AttestedPcr, string>> = {};
  if (r.has("pcrs")) {
    const p = r.object("pcrs");
    if (p !== undefined) {
      p.only(["1", "2", "3", "4", "8"]);
      for (const index of [1, 2, 3, 4, 8] as const) {
        const key = String(index);
        if (p.has(key)) pcrs[index] = p.string(key, SHA384_HEX, "96 lowercase hex digits");
      }
    }
  }
  for (const [index, hex] of [["0", imageSha384], ...Object.entries(pcrs)] as const) {
    if (hex !== undefined && /^0+$/.test(hex)) {
      problems.push(
        `${path}: PCR${index} is all zeros, the value of a debug-mode enclave; a key policy accepting it would let any debug enclave unseal vaults`,
      );
    }
  }
  return { label, imageSha384, pcrs };
}

/**
 * Reads and validates the configuration of `name` from the raw `vettid:environments` context value.
 * Throws {@link EnvironmentConfigError} listing every problem (each naming its field), so nothing
 * is built from a configuration that would deploy something other than what it says.
 */
export function parseEnvironmentConfig(name: string, environments: unknown): EnvironmentConfig {
  const problems: string[] = [];
  if (!ENVIRONMENT_NAME.test(name)) {
    throw new EnvironmentConfigError(name, [
      "the environment name must be 1-21 lowercase letters, digits or '-', starting with a letter",
    ]);
  }
  const all = Reader.root(problems, "vettid:environments", environments);
  if (all === undefined) throw new EnvironmentConfigError(name, problems);
  if (!all.has(name)) {
    const known = Object.keys(environments as object).join(", ") || "none";
    throw new EnvironmentConfigError(name, [
      `vettid:environments has no entry ${JSON.stringify(name)} (known: ${known})`,
    ]);
  }
  const r = all.object(name);
  if (r === undefined) throw new EnvironmentConfigError(name, problems);
  r.only([
    "production",
    "account",
    "region",
    "availabilityZones",
    "network",
    "logRetentionDays",
    "alarmEmail",
    "api",
    "nats",
    "workers",
    "nitro",
    "release",
    "attestation",
  ]);

  const production = r.boolean("production");
  // The backend treats environments named `prod…` as production (server/config): both must agree,
  // or development options could be on where the infrastructure is production, or the reverse.
  if (r.has("production") && production !== /^prod/.test(name)) {
    problems.push(
      `${r.at("production")} is ${production}, but the backend treats ${JSON.stringify(name)} as ${/^prod/.test(name) ? "production" : "non-production"} (names starting with "prod" are production)`,
    );
  }
  const regionText = typeof r.raw("region") === "string" ? String(r.raw("region")) : "";
  // vettid-{name}-{purpose}-{12-digit account}-{region} must fit S3's 63 characters.
  const bucketNameLength =
    "vettid-".length + name.length + 1 + LONGEST_BUCKET_PURPOSE + 1 + 12 + 1 + regionText.length;
  if (bucketNameLength > 63) {
    problems.push(
      `the environment name and region are too long together for S3 bucket names (${bucketNameLength} > 63 characters)`,
    );
  }
  const account = r.optionalString("account", ACCOUNT, "a 12-digit AWS account id");
  const region = r.string("region", REGION, "an AWS region such as eu-west-1");
  const availabilityZones = r.array("availabilityZones", 2, 3).map((az, i) => {
    if (
      typeof az !== "string" ||
      !az.startsWith(region) ||
      !/^[a-z]$/.test(az.slice(region.length))
    ) {
      problems.push(
        `${r.at("availabilityZones")}[${i}] must be a zone of ${region} such as ${region}a, got ${describe(az)}`,
      );
      return "";
    }
    return az;
  });
  if (new Set(availabilityZones).size !== availabilityZones.length) {
    problems.push(`${r.at("availabilityZones")} lists a zone twice`);
  }

  const n = r.object("network");
  n?.only(["cidr", "natGateways"]);
  const cidr = n?.string("cidr", /./, "an IPv4 CIDR") ?? "";
  const cidrIssue = cidr === "" ? undefined : cidrProblem(cidr);
  if (cidrIssue !== undefined && n !== undefined) problems.push(`${n.at("cidr")} ${cidrIssue}`);
  const natGateways = n?.integer("natGateways", 1, Math.max(1, availabilityZones.length)) ?? 1;
  if (production && natGateways < availabilityZones.length) {
    problems.push(
      `${r.at("network.natGateways")} must be one per availability zone (${availabilityZones.length}) in production, so losing a zone does not cut the others off`,
    );
  }

  const logRetentionDays = r.integer("logRetentionDays", 1, 3653);
  if (!LOG_RETENTION_DAYS.includes(logRetentionDays)) {
    problems.push(
      `${r.at("logRetentionDays")} must be one of CloudWatch's values (${LOG_RETENTION_DAYS.join(", ")})`,
    );
  }
  if (production && logRetentionDays < 365) {
    problems.push(`${r.at("logRetentionDays")} must be at least 365 in production (audit)`);
  }
  const alarmEmail = r.optionalString("alarmEmail", EMAIL, "an e-mail address");
  if (production && alarmEmail === undefined) {
    problems.push(`${r.at("alarmEmail")} is required in production: alarms must reach someone`);
  }

  const a = r.object("api");
  a?.only(["throttleRateLimit", "throttleBurstLimit", "corsAllowedOrigins"]);
  const api = {
    throttleRateLimit: a?.integer("throttleRateLimit", 1, 100_000) ?? 1,
    throttleBurstLimit: a?.integer("throttleBurstLimit", 1, 100_000) ?? 1,
    corsAllowedOrigins: (a?.array("corsAllowedOrigins", 0, 10) ?? []).map((o, i) => {
      if (typeof o !== "string" || !ORIGIN.test(o)) {
        problems.push(
          `${r.at("api.corsAllowedOrigins")}[${i}] must be an https:// origin, got ${describe(o)}`,
        );
        return "";
      }
      return o;
    }),
  };

  const s = r.object("nats");
  s?.only(["publicHostname", "accountPublicKey", "image", "nodeCount", "cpu", "memoryMiB"]);
  const nats = {
    publicHostname: s?.string("publicHostname", HOSTNAME, "a lowercase DNS name") ?? "",
    accountPublicKey:
      s?.string(
        "accountPublicKey",
        ACCOUNT_NKEY,
        "a NATS account public key (A + 55 base32 characters)",
      ) ?? "",
    image: s?.string("image", IMAGE, "a container image reference") ?? "",
    nodeCount: s?.integer("nodeCount", 1, 9) ?? 1,
    cpu: s?.integer("cpu", 256, 4096) ?? 256,
    memoryMiB: s?.integer("memoryMiB", 512, 30_720) ?? 512,
  };
  if (s !== undefined) {
    if (nats.nodeCount > 1 && nats.nodeCount % 2 === 0) {
      problems.push(`${s.at("nodeCount")} must be 1 or odd (3, 5, …)`);
    }
    if (production && nats.nodeCount < 3) {
      problems.push(`${s.at("nodeCount")} must be at least 3 in production (survives a node loss)`);
    }
    const issue = fargateProblem(nats.cpu, nats.memoryMiB);
    if (issue !== undefined) problems.push(`${s.at("cpu")}/memoryMiB: ${issue}`);
    if (!/[:@]/.test(nats.image.split("/").pop() ?? "") || nats.image.endsWith(":latest")) {
      problems.push(`${s.at("image")} must pin a version tag or digest (not latest)`);
    }
  }

  const w = r.object("workers");
  w?.only(["desiredCount", "cpu", "memoryMiB", "voteListsPublicUrl"]);
  const workers = {
    desiredCount: w?.integer("desiredCount", 1, 20) ?? 1,
    cpu: w?.integer("cpu", 256, 4096) ?? 256,
    memoryMiB: w?.integer("memoryMiB", 512, 30_720) ?? 512,
    voteListsPublicUrl:
      w?.string(
        "voteListsPublicUrl",
        PUBLIC_BASE_URL,
        "an https:// base URL ending in / (no query or fragment)",
      ) ?? "",
  };
  if (w !== undefined) {
    const issue = fargateProblem(workers.cpu, workers.memoryMiB);
    if (issue !== undefined) problems.push(`${w.at("cpu")}/memoryMiB: ${issue}`);
  }

  const x = r.object("nitro");
  x?.only([
    "instanceType",
    "minCapacity",
    "maxCapacity",
    "enclaveMemoryMiB",
    "enclaveCpuCount",
    "enclaveId",
    "sessionManager",
  ]);
  const nitro = {
    instanceType: x?.has("instanceType")
      ? x.string("instanceType", /^[a-z0-9]+\.[a-z0-9]+$/, "an EC2 instance type")
      : DEFAULT_ENCLAVE_INSTANCE_TYPE,
    minCapacity: x?.integer("minCapacity", 1, 20) ?? 1,
    maxCapacity: x?.integer("maxCapacity", 1, 20) ?? 1,
    enclaveMemoryMiB: x?.has("enclaveMemoryMiB")
      ? x.integer("enclaveMemoryMiB", 64, 1_048_576)
      : DEFAULT_ENCLAVE_MEMORY_MIB,
    enclaveCpuCount: x?.has("enclaveCpuCount")
      ? x.integer("enclaveCpuCount", 2, 128)
      : DEFAULT_ENCLAVE_CPU_COUNT,
    enclaveId:
      x?.string("enclaveId", SUBJECT_TOKEN, "one NATS subject token ([A-Za-z0-9_-], 1-128)") ?? "",
    sessionManager: x?.boolean("sessionManager") ?? false,
  };
  if (x !== undefined) {
    if (nitro.maxCapacity < nitro.minCapacity) {
      problems.push(`${x.at("maxCapacity")} must be at least minCapacity (${nitro.minCapacity})`);
    }
    const type = ENCLAVE_INSTANCE_TYPES[nitro.instanceType];
    if (type === undefined && nitro.instanceType !== "") {
      problems.push(
        `${x.at("instanceType")} ${JSON.stringify(nitro.instanceType)} is not a known Nitro Enclaves host type (known: ${Object.keys(ENCLAVE_INSTANCE_TYPES).join(", ")})`,
      );
    } else if (type !== undefined) {
      if (nitro.enclaveCpuCount % 2 !== 0) {
        problems.push(
          `${x.at("enclaveCpuCount")} must be even: the enclave gets whole cores (2 vCPUs each)`,
        );
      }
      if (nitro.enclaveCpuCount > type.vcpus - MIN_PARENT_VCPUS) {
        problems.push(
          `${x.at("enclaveCpuCount")} ${nitro.enclaveCpuCount} leaves the parent fewer than ${MIN_PARENT_VCPUS} of the ${type.vcpus} vCPUs of ${nitro.instanceType}`,
        );
      }
      if (nitro.enclaveMemoryMiB > type.memoryMiB - MIN_PARENT_MEMORY_MIB) {
        problems.push(
          `${x.at("enclaveMemoryMiB")} ${nitro.enclaveMemoryMiB} leaves the parent less than ${MIN_PARENT_MEMORY_MIB} MiB of the ${type.memoryMiB} MiB of ${nitro.instanceType}`,
        );
      }
    }
    if (production && nitro.sessionManager) {
      problems.push(
        `${x.at("sessionManager")} must be false in production: no interactive shells on enclave hosts`,
      );
    }
  }

  const v = r.object("release");
  v?.only(["version", "appBundleSha256", "enclaveImageSha384"]);
  const release = {
    version: v?.string("version", VERSION, "1-64 characters of A-Z a-z 0-9 . _ -") ?? "",
    appBundleSha256: v?.string("appBundleSha256", SHA256_HEX, "64 lowercase hex digits") ?? "",
    enclaveImageSha384:
      v?.string("enclaveImageSha384", SHA384_HEX, "96 lowercase hex digits (PCR0)") ?? "",
  };

  const t = r.object("attestation");
  t?.only(["measurements"]);
  const measurements = (t?.array("measurements", 1, 3) ?? []).map((m, i) =>
    readMeasurement(problems, `${r.at("attestation.measurements")}[${i}]`, m),
  );
  const labels = measurements.map((m) => m.label);
  if (new Set(labels).size !== labels.length) {
    problems.push(`${r.at("attestation.measurements")} has two entries with the same label`);
  }
  if (
    release.enclaveImageSha384 !== "" &&
    measurements.length > 0 &&
    !measurements.some((m) => m.imageSha384 === release.enclaveImageSha384)
  ) {
    problems.push(
      `${r.at("release.enclaveImageSha384")} is not among attestation.measurements' image hashes: the enclave this release starts could not unseal any vault`,
    );
  }

  if (problems.length > 0) throw new EnvironmentConfigError(name, problems);
  return {
    name,
    production,
    ...(account === undefined ? {} : { account }),
    region,
    availabilityZones,
    network: { cidr, natGateways },
    logRetentionDays,
    ...(alarmEmail === undefined ? {} : { alarmEmail }),
    api,
    nats,
    workers,
    nitro,
    release,
    attestation: { measurements },
  };
}
