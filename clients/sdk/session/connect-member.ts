import { connect, jwtAuthenticator, type NatsConnection } from "nats";
import type { MemberStore } from "../member/member-store.js";

/** Options of {@link connectMember}. */
export interface ConnectMemberOptions {
  /** Server URLs instead of those in the stored NATS credentials (local stacks, tests). */
  readonly servers?: readonly string[];
  /** Connection name shown in server logs. Default "vettid-sdk". */
  readonly name?: string;
  /** How long to try to connect, ms. Default 5000 (nats.js's own default is 20 s). */
  readonly timeoutMs?: number;
}

/**
 * Connects to NATS as the member: the stored user JWT, with the stored nkey seed signing the
 * server's nonce (`jwtAuthenticator`). The seed never leaves the device. The caller owns (and
 * closes) the connection.
 *
 * @throws Error when the member is not enrolled (no JWT or seed stored).
 */
export async function connectMember(
  member: MemberStore,
  options: ConnectMemberOptions = {},
): Promise<NatsConnection> {
  const credentials = await member.natsCredentials();
  const seed = await member.nkeySeed();
  if (credentials === undefined || seed === undefined) {
    throw new Error("not enrolled: no NATS credentials stored (run enrollment first)");
  }
  const servers = options.servers ?? credentials.serverUrls;
  if (servers.length === 0) throw new Error("the stored NATS credentials list no server");
  return connect({
    servers: [...servers],
    name: options.name ?? "vettid-sdk",
    timeout: options.timeoutMs ?? 5_000,
    authenticator: jwtAuthenticator(credentials.userJwt, seed),
  });
}
