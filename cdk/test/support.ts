/**
 * Test support: the app as `cdk.json` configures it, built in memory with bundling skipped (no
 * esbuild, no entry files needed), and helpers to read policies out of templates.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import {
  type EnvironmentConfig,
  parseEnvironmentConfig,
} from "../lib/config/environment-config.js";
import { addVettidStacks, type VettidStacks } from "../lib/vettid-app.js";

/** `cdk/cdk.json`, parsed. */
export const CDK_JSON = JSON.parse(
  readFileSync(fileURLToPath(new URL("../cdk.json", import.meta.url)), "utf8"),
) as { app: string; context: Record<string, unknown> };

/** The raw `vettid:environments` context. */
export function rawEnvironments(): Record<string, Record<string, unknown>> {
  return structuredClone(CDK_JSON.context["vettid:environments"]) as Record<
    string,
    Record<string, unknown>
  >;
}

/** An environment's config from cdk.json, optionally changed first (raw JSON edits). */
export function configFor(
  name = "dev",
  edit: (raw: Record<string, unknown>) => void = () => {},
): EnvironmentConfig {
  const all = rawEnvironments();
  const raw = all[name];
  if (raw === undefined) throw new Error(`no environment ${name} in cdk.json`);
  edit(raw);
  return parseEnvironmentConfig(name, all);
}

/** A fresh app with cdk.json's context, bundling skipped, writing to a temporary directory. */
export function newApp(): App {
  return new App({
    outdir: mkdtempSync(join(tmpdir(), "vettid-cdk-test-")),
    context: { ...CDK_JSON.context, "aws:cdk:bundling-stacks": [] },
  });
}

/**
 * Every stack of one environment in a fresh app, for tests of one stack's template: cdk-nag is
 * left out for speed (`test/app-synth.test.ts` runs it on the whole app, dev and prod).
 */
export function buildStacks(config: EnvironmentConfig = configFor()): {
  app: App;
  stacks: VettidStacks;
} {
  const app = newApp();
  return { app, stacks: addVettidStacks(app, config, { checks: false }) };
}

/** Templates of a built app, synthesised once (the first call synthesises the whole app). */
export function templates(stacks: VettidStacks): Record<keyof VettidStacks, Template> {
  return Object.fromEntries(
    Object.entries(stacks).map(([key, stack]) => [key, Template.fromStack(stack)]),
  ) as Record<keyof VettidStacks, Template>;
}

/** An IAM policy statement as it appears in a template. */
export interface TemplateStatement {
  readonly Effect: "Allow" | "Deny";
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
  readonly Sid?: string;
}

/** The statements of every `AWS::IAM::Policy` attached to the role whose logical id starts with `rolePrefix`. */
export function roleStatements(template: Template, rolePrefix: string): TemplateStatement[] {
  const policies = template.findResources("AWS::IAM::Policy");
  const statements: TemplateStatement[] = [];
  for (const policy of Object.values(policies)) {
    const roles = (policy.Properties.Roles ?? []) as { Ref?: string }[];
    if (roles.some((r) => typeof r.Ref === "string" && r.Ref.startsWith(rolePrefix))) {
      statements.push(...(policy.Properties.PolicyDocument.Statement as TemplateStatement[]));
    }
  }
  return statements;
}

/** A statement's actions as a list. */
export function actions(statement: TemplateStatement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Joins an `Fn::Join` (or returns a string) with tokens shown as `<Ref>`/`<Res.Attr>`, for assertions. */
export function flatten(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) {
    const node = value as Record<string, unknown>;
    if (Array.isArray(node["Fn::Join"])) {
      const [delimiter, parts] = node["Fn::Join"] as [string, unknown[]];
      return parts.map(flatten).join(delimiter);
    }
    if (node.Ref !== undefined) return `<${String(node.Ref)}>`;
    if (Array.isArray(node["Fn::GetAtt"])) return `<${(node["Fn::GetAtt"] as string[]).join(".")}>`;
    if (node["Fn::ImportValue"] !== undefined)
      return `<import:${flatten(node["Fn::ImportValue"])}>`;
  }
  return JSON.stringify(value);
}

/** A statement's resources, flattened. */
export function resources(statement: TemplateStatement): string[] {
  const list = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
  return list.map(flatten);
}

/** The repository root. */
export const REPO_ROOT_FOR_TESTS = fileURLToPath(new URL("../../", import.meta.url));
