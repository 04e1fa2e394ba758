import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import type { InvitationsTable } from "../storage/invitations-table.js";
import { invalidArgument, quoted } from "./request-fields.js";

/** What an invitation code may look like as typed or scanned (enrollment.proto). */
export const INVITATION_CODE_PATTERN = /^[A-Za-z0-9-]{8,64}$/;

/**
 * How long an invitation stays usable: 14 days, long enough for an emailed invitation to be
 * acted on after a weekend or a holiday, short enough that a forgotten one stops working.
 */
export const DEFAULT_INVITATION_TTL_MS = 14 * 24 * 60 * 60 * 1000;

/**
 * Characters of generated codes: Crockford's base32 (no I, L, O, U), so a code read aloud or
 * typed from paper is not misread.
 */
const CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** Checks an invitation code's form (invalid_argument naming the field); returns it unchanged. */
export function requireInvitationCode(code: string): string {
  if (code === "") throw invalidArgument("invitation_code is required");
  if (!INVITATION_CODE_PATTERN.test(code)) {
    throw invalidArgument(
      `invitation_code must be 8 to 64 characters of A-Z a-z 0-9 -, got ${quoted(code)}`,
    );
  }
  return code;
}

/**
 * The key an invitation is stored under: hex SHA-256 of the code in upper case (codes compare
 * case-insensitively). The table never holds a usable code.
 */
export function invitationCodeHash(code: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(code.toUpperCase())));
}

/** A fresh code: 20 random base32 characters (100 bits) in groups of five, `ABCDE-FGHJK-…`. */
export function createInvitationCode(): string {
  const bytes = randomBytes(20);
  let code = "";
  for (const [index, byte] of bytes.entries()) {
    if (index > 0 && index % 5 === 0) code += "-";
    code += CODE_ALPHABET[byte & 31];
  }
  return code;
}

/** Options of {@link issueInvitation}. */
export interface IssueInvitationOptions {
  /** Default {@link DEFAULT_INVITATION_TTL_MS}. */
  readonly ttlMs?: number;
  /** Clock in ms since the epoch. Default `Date.now`. */
  readonly now?: () => number;
}

/**
 * Issues an invitation: makes a code, stores its hash, returns the code (to be sent to the
 * invitee; the backend cannot show it again). For the admin portal and the local stack.
 */
export async function issueInvitation(
  table: InvitationsTable,
  options: IssueInvitationOptions = {},
): Promise<{ readonly code: string; readonly expiresAtMs: number }> {
  const createdAtMs = (options.now ?? Date.now)();
  const expiresAtMs = createdAtMs + (options.ttlMs ?? DEFAULT_INVITATION_TTL_MS);
  // 100 random bits never collide in practice; a second try covers the impossible.
  for (let attempt = 0; attempt < 2; attempt++) {
    const code = createInvitationCode();
    if (await table.create({ codeHash: invitationCodeHash(code), createdAtMs, expiresAtMs })) {
      return { code, expiresAtMs };
    }
  }
  throw new Error("could not store a new invitation code: two random codes collided");
}
