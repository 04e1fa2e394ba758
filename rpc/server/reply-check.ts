import type { ResolvedServiceRoute } from "../subject/index.js";
import { subjectTokenProblem } from "../subject/index.js";

/**
 * Checks a request's reply subject before anything is published to it. NATS permissions check
 * what a client publishes to, not where it asks for the reply to go; without this check a member
 * could direct a vault's replies into another member's inbox. When the route pins a reply prefix,
 * the reply must sit under that prefix expanded with this call's subject variables.
 *
 * Returns the call id (the reply's last token) or a reason for refusing.
 */
export function checkReplySubject(
  route: ResolvedServiceRoute,
  values: Readonly<Record<string, string>>,
  reply: string | undefined,
): { callId: string } | { problem: string } {
  if (reply === undefined || reply === "") return { problem: "request has no reply subject" };
  const tokens = reply.split(".");
  for (const token of tokens) {
    if (subjectTokenProblem(token) !== undefined) {
      return { problem: "reply subject has an invalid token" };
    }
  }
  const prefix = route.replyPrefix;
  if (prefix !== undefined) {
    if (tokens.length <= prefix.tokens.length) {
      return { problem: `reply subject is not under ${prefix.source}` };
    }
    for (let i = 0; i < prefix.tokens.length; i++) {
      const expected = prefix.tokens[i];
      const actual = tokens[i];
      if (expected === undefined || actual === undefined)
        return { problem: "reply subject mismatch" };
      const want = expected.kind === "literal" ? expected.value : (values[expected.name] ?? actual);
      if (actual !== want) return { problem: `reply subject is not under ${prefix.source}` };
    }
  }
  const callId = tokens.at(-1);
  if (callId === undefined) return { problem: "reply subject is empty" };
  return { callId };
}
