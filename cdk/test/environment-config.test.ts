import { describe, expect, it } from "vitest";
import { validateBackendAccess } from "../lib/config/backend-access.js";
import {
  DEFAULT_ENCLAVE_CPU_COUNT,
  DEFAULT_ENCLAVE_INSTANCE_TYPE,
  DEFAULT_ENCLAVE_MEMORY_MIB,
  EnvironmentConfigError,
  parseEnvironmentConfig,
} from "../lib/config/environment-config.js";
import { configFor, rawEnvironments } from "./support.js";

/** cdk.json's untyped JSON, edited freely by the tests to break one rule at a time. */
// biome-ignore lint/suspicious/noExplicitAny: raw JSON under test, deliberately untyped.
type RawJson = Record<string, any>;

/** The problems reported for cdk.json's `name` environment after `edit`. */
function problems(name: string, edit: (raw: RawJson) => void): string[] {
  const all = rawEnvironments();
  edit(all[name] as RawJson);
  try {
    parseEnvironmentConfig(name, all);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvironmentConfigError);
    return [...(error as EnvironmentConfigError).problems];
  }
  throw new Error("the configuration was accepted");
}

describe("cdk.json environments", () => {
  it("dev and prod are valid and use the design's enclave host", () => {
    for (const name of ["dev", "prod"]) {
      const config = configFor(name);
      expect(config.nitro.instanceType).toBe(DEFAULT_ENCLAVE_INSTANCE_TYPE);
      expect(config.nitro.enclaveMemoryMiB).toBe(DEFAULT_ENCLAVE_MEMORY_MIB);
      expect(config.nitro.enclaveCpuCount).toBe(DEFAULT_ENCLAVE_CPU_COUNT);
    }
    expect(configFor("prod").production).toBe(true);
  });

  it("defaults the enclave host to c6a.2xlarge with 12 GiB / 6 vCPUs", () => {
    const config = configFor("dev", (raw) => {
      const nitro = raw.nitro as Record<string, unknown>;
      delete nitro.instanceType;
      delete nitro.enclaveMemoryMiB;
      delete nitro.enclaveCpuCount;
    });
    expect(config.nitro).toMatchObject({
      instanceType: "c6a.2xlarge",
      enclaveMemoryMiB: 12_288,
      enclaveCpuCount: 6,
    });
  });
});

describe("validation", () => {
  it("names an unknown environment and lists the known ones", () => {
    expect(() => parseEnvironmentConfig("staging", rawEnvironments())).toThrow(
      /no entry "staging" \(known: dev, prod\)/,
    );
    expect(() => parseEnvironmentConfig("Dev!", rawEnvironments())).toThrow(/lowercase/);
  });

  it("reports every problem at once, each naming its field", () => {
    const found = problems("dev", (raw) => {
      raw.region = "europe";
      raw.network.cidr = "8.8.8.0/24";
      raw.nats.image = "nats:latest";
      raw.nitro.enclaveCpuCount = 5;
    });
    expect(found.length).toBeGreaterThanOrEqual(4);
    expect(found.join("\n")).toMatch(/vettid:environments\.dev\.region/);
    expect(found.join("\n")).toMatch(/network\.cidr .*prefix length|network\.cidr .*private/);
    expect(found.join("\n")).toMatch(/nats\.image must pin a version/);
    expect(found.join("\n")).toMatch(/enclaveCpuCount must be even/);
  });

  it("refuses a misspelt setting instead of silently using a default", () => {
    expect(
      problems("dev", (raw) => {
        raw.nitro.enclaveMemoryMib = 8192;
      }),
    ).toEqual([expect.stringMatching(/nitro\.enclaveMemoryMib is not a known setting/)]);
  });

  it("keeps at least 2 vCPUs and 2 GiB for the parent", () => {
    expect(
      problems("dev", (raw) => {
        raw.nitro.enclaveCpuCount = 8;
      }).join(),
    ).toMatch(/leaves the parent fewer than 2 of the 8 vCPUs of c6a.2xlarge/);
    expect(
      problems("dev", (raw) => {
        raw.nitro.enclaveMemoryMiB = 15_360;
      }).join(),
    ).toMatch(/leaves the parent less than 2048 MiB of the 16384 MiB/);
  });

  it("accepts only known Nitro Enclaves host types", () => {
    expect(
      problems("dev", (raw) => {
        raw.nitro.instanceType = "t3.micro";
      }).join(),
    ).toMatch(/"t3.micro" is not a known Nitro Enclaves host type/);
  });

  it("refuses debug-mode (all-zero) measurements, which any debug enclave would satisfy", () => {
    expect(
      problems("dev", (raw) => {
        raw.attestation.measurements[0].pcrs["1"] = "0".repeat(96);
      }).join(),
    ).toMatch(/PCR1 is all zeros/);
    expect(
      problems("dev", (raw) => {
        raw.attestation.measurements[0].imageSha384 = "0".repeat(96);
        raw.release.enclaveImageSha384 = "0".repeat(96);
      }).join(),
    ).toMatch(/PCR0 is all zeros/);
  });

  it("refuses a release whose enclave image the sealing key would not accept", () => {
    expect(
      problems("dev", (raw) => {
        raw.release.enclaveImageSha384 = "c".repeat(96);
      }),
    ).toEqual([
      expect.stringMatching(/release\.enclaveImageSha384 is not among attestation\.measurements/),
    ]);
  });

  it("holds production to production rules", () => {
    const found = problems("prod", (raw) => {
      delete raw.alarmEmail;
      raw.nitro.sessionManager = true;
      raw.network.natGateways = 1;
      raw.nats.nodeCount = 1;
      raw.logRetentionDays = 30;
    }).join("\n");
    expect(found).toMatch(/alarmEmail is required in production/);
    expect(found).toMatch(/sessionManager must be false in production/);
    expect(found).toMatch(/natGateways must be one per availability zone/);
    expect(found).toMatch(/nodeCount must be at least 3 in production/);
    expect(found).toMatch(/logRetentionDays must be at least 365 in production/);
  });

  it("agrees with the backend on what is production (names starting with prod)", () => {
    expect(
      problems("dev", (raw) => {
        raw.production = true;
      }).join(),
    ).toMatch(/the backend treats "dev" as non-production/);
  });

  it("checks Fargate sizes and availability zones against the region", () => {
    const found = problems("dev", (raw) => {
      raw.workers.cpu = 300;
      raw.availabilityZones = ["us-east-1a", "eu-west-1a"];
    }).join("\n");
    expect(found).toMatch(/workers\.cpu\/memoryMiB: cpu must be one of/);
    expect(found).toMatch(/availabilityZones\[0\] must be a zone of eu-west-1/);
  });

  it("needs the vote lists' public base URL: https, ending in /, no query", () => {
    expect(configFor("dev").workers.voteListsPublicUrl).toBe("https://vote-lists.dev.vettid.dev/");
    for (const value of [
      undefined,
      "http://vote-lists.dev.vettid.dev/",
      "https://vote-lists.dev.vettid.dev",
      "https://vote-lists.dev.vettid.dev/?list=1",
    ]) {
      expect(
        problems("dev", (raw) => {
          raw.workers.voteListsPublicUrl = value;
        }).join(),
        String(value),
      ).toMatch(/workers\.voteListsPublicUrl must be an https:\/\/ base URL ending in \//);
    }
  });

  it("keeps bucket names within S3's 63 characters", () => {
    const all = rawEnvironments();
    const name = "a-very-long-env-name1";
    all[name] = all.dev as Record<string, unknown>;
    (all[name] as Record<string, unknown>).region = "ap-southeast-1";
    (all[name] as Record<string, unknown>).availabilityZones = [
      "ap-southeast-1a",
      "ap-southeast-1b",
    ];
    expect(() => parseEnvironmentConfig(name, all)).toThrow(
      /too long together for S3 bucket names/,
    );
  });
});

describe("the backend access catalogue", () => {
  it("is consistent (known tables, unique routes, backend never touches vault blobs)", () => {
    expect(() => validateBackendAccess()).not.toThrow();
  });

  it("refuses a function that would touch the vault blobs or the parent's credentials", () => {
    expect(() =>
      validateBackendAccess([
        {
          id: "rogue",
          description: "x",
          entry: "server/lambda/entries/rogue.ts",
          exportName: "handler",
          service: "vettid.x.v1.X",
          methods: ["Y"],
          tables: {},
          buckets: { vaultBlobs: { access: "read", prefix: "" } },
          signingKeys: [],
          secrets: ["natsParentUser"],
          nats: false,
          settings: [],
          timeoutSeconds: 10,
          memoryMiB: 512,
        },
      ]),
    ).toThrow(/never touches the vaultBlobs bucket[\s\S]*never reads the parent's/);
  });
});
