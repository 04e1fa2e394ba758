import { App } from "aws-cdk-lib";
import { parseEnvironmentConfig } from "../lib/config/environment-config.js";
import { addVettidStacks } from "../lib/vettid-app.js";

const app = new App();
const environment = String(app.node.tryGetContext("vettid:environment") ?? "dev");
const config = parseEnvironmentConfig(environment, app.node.tryGetContext("vettid:environments"));
addVettidStacks(app, config);
app.synth();
