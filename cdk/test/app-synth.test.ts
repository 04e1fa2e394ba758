import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BACKEND_FUNCTIONS, BACKEND_WORKERS } from "../lib/config/backend-access.js";
import { stackName } from "../lib/config/names.js";
import { REPO_ROOT } from "../lib/constructs/backend-function.js";
import { ACKNOWLEDGED } from "../lib/constructs/nag.js";
import { addVettidStacks } from "../lib/vettid-app.js";
import { CDK_JSON, configFor, newApp } from "./support.js";

describe("the whole app", () => {
  for (const environment of ["dev", "prod"]) {
    it(`synthesises ${environment} offline, with cdk-nag (AwsSolutions) passing on every stack`, () => {
      const app = newApp();
      const stacks = addVettidStacks(app, configFor(environment));
      // Validation plugins (cdk-nag, CloudFormation validation) run here; an unacknowledged
      // finding makes synth throw.
      const assembly = app.synth();
      expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(
        ["infrastructure", "monitoring", "nats", "network", "nitro", "vault-api", "workers"].map(
          (concern) => stackName(environment, concern),
        ),
      );
      // Nothing had to be looked up in an AWS account: no missing context.
      expect(assembly.manifest.missing ?? []).toEqual([]);
      expect(stacks.infrastructure.terminationProtection).toBe(true);
      const report = JSON.parse(
        readFileSync(join(assembly.directory, "validation-report.json"), "utf8"),
      ) as { pluginReports: { pluginName: string; conclusion: string }[] };
      for (const plugin of report.pluginReports) expect(plugin.conclusion).toBe("success");
    });
  }

  it("gives every cdk-nag acknowledgement a reason", () => {
    addVettidStacks(newApp(), configFor("dev"));
    expect(ACKNOWLEDGED.size).toBeGreaterThan(0);
    for (const [rule, reasons] of ACKNOWLEDGED) {
      expect(rule).toMatch(/^AwsSolutions-[A-Z0-9]+$/);
      for (const reason of reasons) expect(reason.length).toBeGreaterThanOrEqual(20);
    }
  });

  it("runs bin/app.ts from cdk/ as the CLI does (a child process, offline, no account)", () => {
    expect(CDK_JSON.app).toBe("npx tsx bin/app.ts");
    expect(CDK_JSON.context["cli-telemetry"]).toBe(false);
    const outdir = mkdtempSync(join(tmpdir(), "vettid-cdk-app-"));
    const result = spawnSync(process.execPath, ["--import", "tsx", "bin/app.ts"], {
      cwd: join(REPO_ROOT, "cdk"),
      encoding: "utf8",
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        CDK_OUTDIR: outdir,
        // What the CLI passes; bundling skipped here (the Lambda bundles need the entry files).
        CDK_CONTEXT_JSON: JSON.stringify({
          "aws:cdk:bundling-stacks": [],
          "vettid:environment": "prod",
        }),
      },
    });
    expect(result.stderr.split("\n").filter((l) => /error/i.test(l))).toEqual([]);
    expect(result.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as {
      artifacts: Record<string, { type: string }>;
      missing?: unknown[];
    };
    const stacks = Object.entries(manifest.artifacts)
      .filter(([, artifact]) => artifact.type === "aws:cloudformation:stack")
      .map(([name]) => name);
    expect(stacks.sort()).toEqual(
      ["infrastructure", "monitoring", "nats", "network", "nitro", "vault-api", "workers"].map(
        (concern) => stackName("prod", concern),
      ),
    );
    expect(manifest.missing).toBeUndefined();
  }, 180_000);
});

describe("entry points named in cdk/lib/config/backend-access.ts", () => {
  const entries = [
    ...BACKEND_FUNCTIONS.map((fn) => ({
      owner: `Lambda ${fn.id}`,
      entry: fn.entry,
      exportName: fn.exportName,
    })),
    { owner: "the workers", entry: BACKEND_WORKERS.entry, exportName: undefined },
  ];
  for (const { owner, entry, exportName } of entries) {
    it(`${entry} (${owner}) exists${exportName === undefined ? "" : ` and exports ${exportName}`}`, () => {
      const path = join(REPO_ROOT, entry);
      expect(
        existsSync(path),
        `${entry} does not exist: ${owner} cannot be bundled; the backend must provide it or the catalogue must change`,
      ).toBe(true);
      if (exportName !== undefined) {
        expect(
          readFileSync(path, "utf8"),
          `${entry} must export ${exportName} (the Lambda handler)`,
        ).toMatch(
          new RegExp(
            `export\\s+(const|async function|function)\\s+${exportName}\\b|export\\s*\\{[^}]*\\b${exportName}\\b`,
          ),
        );
      }
    });
  }
});
