/**
 * The CDK app: one environment's stacks (`-c vettid:environment=NAME`, default dev), wired by
 * `addVettidStacks`. `cdk.json`'s context is also read here, so `tsx bin/app.ts` synthesises the
 * same app without the CLI (the CLI's own context, passed in CDK_CONTEXT_JSON, takes precedence).
 */
import { readFileSync } from "node:fs";
import { App } from "aws-cdk-lib";
import { parseEnvironmentConfig } from "../lib/config/environment-config.js";
import { addVettidStacks } from "../lib/vettid-app.js";

const cdkJson = JSON.parse(readFileSync(new URL("../cdk.json", import.meta.url), "utf8")) as {
  context?: Record<string, unknown>;
};
const app = new App({ context: cdkJson.context ?? {} });
const environment = String(app.node.tryGetContext("vettid:environment") ?? "dev");
const config = parseEnvironmentConfig(environment, app.node.tryGetContext("vettid:environments"));
addVettidStacks(app, config);
app.synth();
