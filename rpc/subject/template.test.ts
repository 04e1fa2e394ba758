import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  expandSubject,
  matchSubject,
  parseSubjectTemplate,
  subjectTokenProblem,
  subscriptionSubject,
} from "./template.js";

const forVault = parseSubjectTemplate("OwnerSpace.{owner_guid}.forVault.secrets");
const guid = "3f2b8c1e-9a4d-4e7b-8c2a-1d5e6f7a8b9c";

function expandError(value: string): ConnectError {
  try {
    expandSubject(forVault, { owner_guid: value });
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error(`expected ${JSON.stringify(value)} to be refused`);
}

describe("parseSubjectTemplate", () => {
  it("splits literals and variables", () => {
    expect(forVault.variables).toEqual(["owner_guid"]);
    expect(forVault.tokens).toEqual([
      { kind: "literal", value: "OwnerSpace" },
      { kind: "variable", name: "owner_guid" },
      { kind: "literal", value: "forVault" },
      { kind: "literal", value: "secrets" },
    ]);
  });

  it.each([
    ["", "empty"],
    ["OwnerSpace..forVault", "invalid token"],
    ["OwnerSpace.{Owner}.x", "invalid token"],
    ["OwnerSpace.*.x", "invalid token"],
    ["OwnerSpace.{a}.{a}", "repeats variable"],
  ])("refuses malformed template %j", (source, message) => {
    expect(() => parseSubjectTemplate(source)).toThrow(message);
  });
});

describe("expandSubject", () => {
  it("fills variables", () => {
    expect(expandSubject(forVault, { owner_guid: guid })).toBe(
      `OwnerSpace.${guid}.forVault.secrets`,
    );
  });

  it.each([
    ["a.b", '"."'],
    ["*", '"*"'],
    [">", '">"'],
    ["abc def", "whitespace"],
    ["abc\t", "whitespace"],
    ["abc\n", "whitespace"],
    ["", "empty"],
    ["x".repeat(129), "129 characters"],
    ["ünïcode", "characters other than"],
  ])("refuses %j with invalid_argument naming the problem", (value, problem) => {
    const error = expandError(value);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.rawMessage).toContain("{owner_guid}");
    expect(error.rawMessage).toContain(problem);
  });

  it("refuses a missing variable", () => {
    expect(() => expandSubject(forVault, {})).toThrow("needs a value for {owner_guid}");
  });
});

describe("matchSubject", () => {
  it("extracts variables from a concrete subject", () => {
    expect(matchSubject(forVault, `OwnerSpace.${guid}.forVault.secrets`)).toEqual({
      owner_guid: guid,
    });
  });

  it("does not match other literals or token counts", () => {
    expect(matchSubject(forVault, `OwnerSpace.${guid}.forApp.secrets`)).toBeUndefined();
    expect(matchSubject(forVault, `OwnerSpace.${guid}.forVault.secrets.x`)).toBeUndefined();
    expect(matchSubject(forVault, "OwnerSpace.*.forVault.secrets")).toBeUndefined();
  });
});

describe("subscriptionSubject", () => {
  it("uses * for unbound variables and validates bound ones", () => {
    expect(subscriptionSubject(forVault)).toBe("OwnerSpace.*.forVault.secrets");
    expect(subscriptionSubject(forVault, { owner_guid: guid })).toBe(
      `OwnerSpace.${guid}.forVault.secrets`,
    );
    expect(() => subscriptionSubject(forVault, { owner_guid: ">" })).toThrow('">"');
  });
});

describe("subjectTokenProblem", () => {
  it("accepts GUIDs, ids and base32 nkeys", () => {
    expect(subjectTokenProblem(guid)).toBeUndefined();
    expect(subjectTokenProblem("enclave_01")).toBeUndefined();
    expect(
      subjectTokenProblem("UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4"),
    ).toBeUndefined();
  });
});
