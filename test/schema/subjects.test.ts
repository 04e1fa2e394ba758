import { readFileSync } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  eventRoute,
  expandSubject,
  matchSubject,
  methodSubject,
  type SubjectTemplate,
  serviceRoute,
} from "../../rpc/subject/index.js";
import { loadSchemaCatalog } from "../../scripts/lib/schema-catalog.js";
import { renderSubjectsDoc } from "../../scripts/lib/subjects-doc.js";

const catalog = await loadSchemaCatalog();

const templates: [string, SubjectTemplate][] = [];
for (const service of catalog.services) {
  const route = serviceRoute(service);
  if (route === undefined) continue;
  templates.push([`${service.typeName} subject`, route.subject]);
  if (route.replyPrefix) templates.push([`${service.typeName} reply prefix`, route.replyPrefix]);
  if (route.sealedSubject) templates.push([`${service.typeName} sealed`, route.sealedSubject]);
}
for (const message of catalog.messages) {
  for (const subject of eventRoute(message)?.subjects ?? []) {
    templates.push([`${message.typeName} event`, subject]);
  }
}

const GOOD_VALUE = "3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f7a8b9c";
const BAD_VALUES = ["a.b", "*", ">", "a b", "a\tb", "", "x".repeat(200)];

describe("declared subjects", () => {
  it("exist for the vault, MessageSpace, Control and Broadcast spaces", () => {
    const sources = templates.map(([, t]) => t.source);
    for (const prefix of [
      "OwnerSpace.{owner_guid}.forVault.",
      "OwnerSpace.{owner_guid}.forApp.",
      "OwnerSpace.{owner_guid}.forServices.",
      "OwnerSpace.{owner_guid}.eventTypes",
      "MessageSpace.{owner_guid}.forOwner.",
      "MessageSpace.{owner_guid}.ownerProfile",
      "MessageSpace.{owner_guid}.call.",
      "Control.global.",
      "Control.enclave.{enclave_id}.",
      "Control.user.{owner_guid}.",
      "Broadcast.system.",
      "Broadcast.security.",
    ]) {
      expect(
        sources.some((s) => s.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
  });

  it.each(templates)("%s expands and validates its tokens", (_, template) => {
    const values = Object.fromEntries(template.variables.map((v) => [v, GOOD_VALUE]));
    const subject = expandSubject(template, values);
    expect(subject).not.toMatch(/[{}*> ]/);
    expect(matchSubject(template, subject)).toEqual(values);
    for (const variable of template.variables) {
      for (const bad of BAD_VALUES) {
        let error: ConnectError | undefined;
        try {
          expandSubject(template, { ...values, [variable]: bad });
        } catch (e) {
          error = ConnectError.from(e);
        }
        expect(error?.code, `${variable}=${JSON.stringify(bad)}`).toBe(Code.InvalidArgument);
        expect(error?.rawMessage).toContain(`{${variable}}`);
      }
    }
  });

  it("gives every routed method a subject under its service", () => {
    for (const service of catalog.services) {
      const route = serviceRoute(service);
      if (route === undefined) continue;
      const values = Object.fromEntries(route.subject.variables.map((v) => [v, GOOD_VALUE]));
      for (const method of service.methods) {
        expect(methodSubject(method, values)).toBe(
          `${expandSubject(route.subject, values)}.${method.name}`,
        );
      }
    }
  });

  it("keeps members' replies under their own forApp prefix", () => {
    for (const service of catalog.services) {
      const route = serviceRoute(service);
      if (route?.subject.source.startsWith("OwnerSpace.{owner_guid}.forVault") !== true) continue;
      expect(route.replyPrefix?.source, service.typeName).toMatch(
        /^OwnerSpace\.\{owner_guid\}\.forApp\./,
      );
    }
  });
});

describe("docs/subjects.md", () => {
  it("is up to date with the schema (run `npm run generate`)", () => {
    const onDisk = readFileSync(new URL("../../docs/subjects.md", import.meta.url), "utf8");
    expect(onDisk).toBe(renderSubjectsDoc(catalog).text);
  });
});
