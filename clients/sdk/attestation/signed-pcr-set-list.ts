import { fromBinary } from "@bufbuild/protobuf";
import { ed25519 } from "@noble/curves/ed25519.js";
import { equalBytes } from "@noble/curves/utils.js";
import {
  type PcrSetList,
  PcrSetListSchema,
  type SignedPcrSetList,
  SignedPcrSetListSchema,
} from "../../../gen/vettid/attestation/v1/pcr_pb.js";
import { errorMessage } from "./check-result.js";
import {
  ED25519_PUBLIC_KEY_LENGTH,
  ED25519_SIGNATURE_LENGTH,
  MAX_SIGNED_PCR_SET_LIST_BYTES,
  PCR_SET_LIST_SIGNATURE_LABEL,
} from "./constants.js";
import { type AcceptedPcrSets, msOf, pcrSetsProblem } from "./pcr-sets.js";
import { type Clock, resolveTime } from "./verification-time.js";

/**
 * The operators' pinned Ed25519 keys: key id → raw 32-byte public key. A `SignedPcrSetList` names
 * the key in `key_id`; unknown ids are refused.
 */
export type OperatorKeys = ReadonlyMap<string, Uint8Array> | Readonly<Record<string, Uint8Array>>;

/** Why a signed PCR set list was refused. */
export type PcrSetListRefusal =
  /** Not a `SignedPcrSetList` (bytes that do not decode, fields of the wrong type, too large). */
  | "malformed"
  /** `key_id` names no pinned operator key. */
  | "unknown_key"
  /** The signature is not 64 bytes or does not verify under the named key. */
  | "bad_signature"
  /** The signed bytes are not a usable `PcrSetList` (see `pcrSetProblem`). */
  | "invalid_list"
  /** Its sequence is lower than the list already accepted (a rollback). */
  | "older_sequence"
  /** Same sequence as the list already accepted, different contents. */
  | "conflicting_sequence"
  /** It expired before the verification time. */
  | "expired";

/** Options of {@link verifySignedPcrSetList}. */
export interface VerifySignedPcrSetListOptions {
  /**
   * The list accepted before (what an earlier call returned, or the app's bundled list). Lists
   * with a lower sequence are refused, and one with the same sequence unless it is the same list.
   * Default: none, so any validly signed list is accepted: pass one whenever the app has one.
   */
  readonly current?: AcceptedPcrSets;
  /** Verification time for the expiry check, in ms since the epoch or a Date. Default: now. */
  readonly at?: Clock;
}

/** The outcome of {@link verifySignedPcrSetList}. */
export type PcrSetListVerification =
  | {
      readonly ok: true;
      /** The sets to verify documents against, and to pass as `current` next time. */
      readonly accepted: AcceptedPcrSets;
      /** The decoded list. */
      readonly list: PcrSetList;
      /** True when it is the very list given as `current` (a re-delivery). */
      readonly unchanged: boolean;
    }
  | {
      readonly ok: false;
      readonly refusal: PcrSetListRefusal;
      /** What exactly was wrong, for logs. */
      readonly detail: string;
    };

const LABEL = new TextEncoder().encode(PCR_SET_LIST_SIGNATURE_LABEL);

/**
 * Verifies an operator-signed PCR set list, as pcr.proto defines it: verify first, decode second.
 * The Ed25519 signature (RFC 8032, strict: no ZIP-215 leniency) is checked under the pinned key
 * `key_id` names, over `"vettid-pcr-set-list-v1" || 0x00 || pcr_set_list`, the list's bytes as
 * carried (never re-serialised); only then is `pcr_set_list` decoded and its sets checked. A list
 * older than `options.current` is refused, as is one that has expired.
 *
 * `signed` is the message or its binary encoding, as received. Never throws for malformed input.
 *
 * @throws TypeError when `operatorKeys` holds a key that is not 32 bytes, or `options.at` is not a
 *   time: configuration errors, not input.
 */
export function verifySignedPcrSetList(
  signed: SignedPcrSetList | Uint8Array,
  operatorKeys: OperatorKeys,
  options: VerifySignedPcrSetListOptions = {},
): PcrSetListVerification {
  const keys = resolveOperatorKeys(operatorKeys);
  const atMs = resolveTime(options.at, "at");

  let message: SignedPcrSetList;
  if (signed instanceof Uint8Array) {
    if (signed.length > MAX_SIGNED_PCR_SET_LIST_BYTES) {
      return refused(
        "malformed",
        `signed list is ${signed.length} bytes; at most ${MAX_SIGNED_PCR_SET_LIST_BYTES}`,
      );
    }
    try {
      message = fromBinary(SignedPcrSetListSchema, signed);
    } catch (error) {
      return refused("malformed", `not a SignedPcrSetList: ${errorMessage(error)}`);
    }
  } else {
    message = signed;
  }
  const { pcrSetList: listBytes, signature, keyId } = message ?? {};
  if (
    !(listBytes instanceof Uint8Array) ||
    !(signature instanceof Uint8Array) ||
    typeof keyId !== "string"
  ) {
    return refused("malformed", "pcr_set_list, signature and key_id must be bytes, bytes and text");
  }
  if (listBytes.length > MAX_SIGNED_PCR_SET_LIST_BYTES) {
    return refused(
      "malformed",
      `pcr_set_list is ${listBytes.length} bytes; at most ${MAX_SIGNED_PCR_SET_LIST_BYTES}`,
    );
  }

  const key = keys.get(keyId);
  if (key === undefined)
    return refused("unknown_key", `no pinned operator key ${JSON.stringify(keyId)}`);
  if (signature.length !== ED25519_SIGNATURE_LENGTH) {
    return refused(
      "bad_signature",
      `signature is ${signature.length} bytes, not ${ED25519_SIGNATURE_LENGTH}`,
    );
  }
  let valid: boolean;
  try {
    valid = ed25519.verify(signature, pcrSetListSignedMessage(listBytes), key, { zip215: false });
  } catch {
    valid = false;
  }
  if (!valid) {
    return refused(
      "bad_signature",
      `signature does not verify under operator key ${JSON.stringify(keyId)}`,
    );
  }

  let list: PcrSetList;
  try {
    list = fromBinary(PcrSetListSchema, listBytes);
  } catch (error) {
    return refused("invalid_list", `signed bytes are not a PcrSetList: ${errorMessage(error)}`);
  }
  const issuedAtMs = msOf(list.issuedAtMs);
  const expiresAtMs = msOf(list.expiresAtMs);
  if (issuedAtMs === undefined || expiresAtMs === undefined) {
    return refused(
      "invalid_list",
      "issued_at_ms or expires_at_ms is negative or not a ms timestamp",
    );
  }
  const problem = pcrSetsProblem(list.sets);
  if (problem !== undefined) return refused("invalid_list", problem);

  const current = options.current;
  let unchanged = false;
  if (current !== undefined) {
    if (list.sequence < current.sequence) {
      return refused(
        "older_sequence",
        `sequence ${list.sequence} is older than the accepted ${current.sequence}`,
      );
    }
    if (list.sequence === current.sequence) {
      if (!equalBytes(listBytes, current.listBytes)) {
        return refused(
          "conflicting_sequence",
          `sequence ${list.sequence} is already accepted with other contents`,
        );
      }
      unchanged = true;
    }
  }
  if (expiresAtMs !== 0 && atMs > expiresAtMs) {
    return refused("expired", `list expired at ${new Date(expiresAtMs).toISOString()}`);
  }

  return {
    ok: true,
    accepted: {
      sequence: list.sequence,
      issuedAtMs,
      expiresAtMs: expiresAtMs === 0 ? undefined : expiresAtMs,
      sets: list.sets,
      listBytes: listBytes.slice(),
    },
    list,
    unchanged,
  };
}

/** The bytes operators sign: the label's UTF-8, 0x00, then the list's exact bytes. */
export function pcrSetListSignedMessage(listBytes: Uint8Array): Uint8Array {
  const message = new Uint8Array(LABEL.length + 1 + listBytes.length);
  message.set(LABEL, 0);
  message.set(listBytes, LABEL.length + 1);
  return message;
}

/** Operator keys as a Map, each checked to be a 32-byte key. */
function resolveOperatorKeys(operatorKeys: OperatorKeys): Map<string, Uint8Array> {
  if (typeof operatorKeys !== "object" || operatorKeys === null) {
    throw new TypeError("operatorKeys must be a Map or record of key id → Ed25519 public key");
  }
  const entries =
    operatorKeys instanceof Map
      ? [...operatorKeys.entries()]
      : Object.entries(operatorKeys as Readonly<Record<string, Uint8Array>>);
  const keys = new Map<string, Uint8Array>();
  for (const [id, key] of entries) {
    if (!(key instanceof Uint8Array) || key.length !== ED25519_PUBLIC_KEY_LENGTH) {
      throw new TypeError(
        `operatorKeys[${JSON.stringify(id)}] must be a raw ${ED25519_PUBLIC_KEY_LENGTH}-byte Ed25519 public key`,
      );
    }
    keys.set(id, key);
  }
  return keys;
}

function refused(refusal: PcrSetListRefusal, detail: string): PcrSetListVerification {
  return { ok: false, refusal, detail };
}
