import { Code, ConnectError } from "@connectrpc/connect";

/**
 * A parsed subject template such as `OwnerSpace.{owner_guid}.forVault.secrets`.
 *
 * Templates come from the schema (`vettid.options.v1.route` / `event`); variables are filled at run
 * time from values that often cross a trust boundary (a member GUID in a request), so every value is
 * checked to be exactly one NATS token before it is placed in a subject.
 */
export interface SubjectTemplate {
  /** The template as written in the schema. */
  readonly source: string;
  /** Tokens in order: literal text, or a variable name. */
  readonly tokens: readonly SubjectTemplateToken[];
  /** Names of the variables, in order of appearance. */
  readonly variables: readonly string[];
}

/** One dot-separated token of a template. */
export type SubjectTemplateToken =
  | { readonly kind: "literal"; readonly value: string }
  | { readonly kind: "variable"; readonly name: string };

/**
 * Longest value a variable may take. A GUID is 36 characters; 128 leaves room for other ids while
 * keeping subjects far below NATS's practical limits.
 */
export const MAX_SUBJECT_VARIABLE_LENGTH = 128;

const VARIABLE_VALUE = /^[A-Za-z0-9_-]+$/;
const VARIABLE_TOKEN = /^\{([a-z][a-z0-9_]*)\}$/;
// Literal tokens may start with `$` for NATS system subjects such as `$SRV`.
const LITERAL_TOKEN = /^\$?[A-Za-z0-9_-]+$/;

/** Parses a subject template, throwing a plain `Error` for a malformed schema option. */
export function parseSubjectTemplate(source: string): SubjectTemplate {
  if (source.length === 0) {
    throw new Error("subject template is empty");
  }
  const tokens: SubjectTemplateToken[] = [];
  const variables: string[] = [];
  for (const part of source.split(".")) {
    const variable = VARIABLE_TOKEN.exec(part);
    if (variable?.[1] !== undefined) {
      if (variables.includes(variable[1])) {
        throw new Error(`subject template "${source}" repeats variable {${variable[1]}}`);
      }
      tokens.push({ kind: "variable", name: variable[1] });
      variables.push(variable[1]);
    } else if (LITERAL_TOKEN.test(part)) {
      tokens.push({ kind: "literal", value: part });
    } else {
      throw new Error(`subject template "${source}" has an invalid token "${part}"`);
    }
  }
  return { source, tokens, variables };
}

/**
 * Explains why `value` cannot be used as one subject token, or returns undefined when it can.
 */
export function subjectTokenProblem(value: string): string | undefined {
  if (value.length === 0) return "is empty";
  if (value.length > MAX_SUBJECT_VARIABLE_LENGTH) {
    return `is ${value.length} characters long (at most ${MAX_SUBJECT_VARIABLE_LENGTH})`;
  }
  if (VARIABLE_VALUE.test(value)) return undefined;
  if (value.includes(".")) return 'contains "." (a token separator)';
  if (value.includes("*")) return 'contains "*" (a wildcard)';
  if (value.includes(">")) return 'contains ">" (a wildcard)';
  if (/\s/.test(value)) return "contains whitespace";
  return "contains characters other than A-Z a-z 0-9 _ -";
}

/**
 * Fills a template's variables. Every variable must be given and be one valid token; anything else
 * is an `invalid_argument` ConnectError that names the variable and what was wrong.
 */
export function expandSubject(
  template: SubjectTemplate,
  values: Readonly<Record<string, string | undefined>>,
): string {
  const out: string[] = [];
  for (const token of template.tokens) {
    if (token.kind === "literal") {
      out.push(token.value);
      continue;
    }
    const value = values[token.name];
    if (value === undefined) {
      throw new ConnectError(
        `subject "${template.source}" needs a value for {${token.name}}`,
        Code.InvalidArgument,
      );
    }
    const problem = subjectTokenProblem(value);
    if (problem !== undefined) {
      throw new ConnectError(
        `subject variable {${token.name}} ${problem}: ${JSON.stringify(value.slice(0, 64))}`,
        Code.InvalidArgument,
      );
    }
    out.push(value);
  }
  return out.join(".");
}

/**
 * Matches a concrete subject against a template and returns the variables' values, or undefined
 * when it does not match (other literals, another token count, or a value that is not one token).
 */
export function matchSubject(
  template: SubjectTemplate,
  subject: string,
): Record<string, string> | undefined {
  const parts = subject.split(".");
  if (parts.length !== template.tokens.length) return undefined;
  const values: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const token = template.tokens[i];
    const part = parts[i];
    if (token === undefined || part === undefined) return undefined;
    if (token.kind === "literal") {
      if (token.value !== part) return undefined;
    } else {
      if (subjectTokenProblem(part) !== undefined) return undefined;
      values[token.name] = part;
    }
  }
  return values;
}

/** The subscription subject for a template: every variable replaced by `*`, or by a fixed value. */
export function subscriptionSubject(
  template: SubjectTemplate,
  values: Readonly<Record<string, string | undefined>> = {},
): string {
  return template.tokens
    .map((token) => {
      if (token.kind === "literal") return token.value;
      const value = values[token.name];
      return value === undefined
        ? "*"
        : expandSubject(parseSubjectTemplate(`{${token.name}}`), values);
    })
    .join(".");
}
