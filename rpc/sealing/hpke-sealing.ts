import { create, fromBinary, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { RecipientContext, SenderContext } from "@hpke/core";
import { equalBytes } from "@noble/ciphers/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { LRUCache } from "lru-cache";
import { type SealedContent, SealedContentSchema } from "../../gen/vettid/rpc/v1/sealed_pb.js";
import {
  DEFAULT_REPLAY_CACHE_SIZE,
  DEFAULT_REPLAY_WINDOW_MS,
  ENC_LENGTH,
  KEY_ID_LENGTH,
  REQUEST_INFO_LABEL,
  RESPONSE_EXPORT_LABEL,
  RESPONSE_NONCE_LENGTH,
  SEALED_FORMAT_VERSION,
} from "./constants.js";
import { hpkeSuite as suite } from "./hpke-suite.js";
import { ResponseCipher } from "./response-keys.js";

/** An X25519 key pair that sealed calls are addressed to (the enclave's, attested). */
export interface SealingKeyPair {
  /** Raw 32-byte X25519 public key, as the attestation document's `public_key` carries it. */
  readonly publicKey: Uint8Array;
  /** Raw 32-byte X25519 private key. Never leaves the enclave. */
  readonly privateKey: Uint8Array;
}

/** The content of a sealed frame, as the protocol layer gives it. */
export type SealedContentInit = MessageInitShape<typeof SealedContentSchema>;

/** Client side: seals requests to one recipient key. */
export interface RequestSealer {
  /** Seals the first frame of a call addressed to `subject`; later frames use the returned call. */
  seal(
    subject: string,
    kind: string,
    content: SealedContentInit,
  ): Promise<{ payload: Uint8Array; call: ClientSealedCall }>;
}

/** Client side of one sealed call. */
export interface ClientSealedCall {
  /** Seals a later request frame (frames must be sealed in the order they are sent). */
  seal(kind: string, content: SealedContentInit): Promise<Uint8Array>;
  /** Opens the next response frame (in order); throws `invalid_argument` when it was tampered with. */
  open(kind: string, payload: Uint8Array): Promise<SealedContent>;
}

/** Server side: opens requests sealed to this server's key pair. */
export interface RequestOpener {
  /** Opens the first frame of a call that arrived on `subject`. */
  open(
    subject: string,
    kind: string,
    payload: Uint8Array,
  ): Promise<{ content: SealedContent; call: ServerSealedCall }>;
}

/** Server side of one sealed call. */
export interface ServerSealedCall {
  /** Opens a later request frame (in order). */
  open(kind: string, payload: Uint8Array): Promise<SealedContent>;
  /** Seals the next response frame (in order); the first carries the response nonce. */
  seal(kind: string, content: SealedContentInit): Uint8Array;
}

/** Options of {@link createRequestOpener}. */
export interface RequestOpenerOptions {
  /** See {@link DEFAULT_REPLAY_WINDOW_MS}. */
  readonly replayWindowMs?: number;
  /** See {@link DEFAULT_REPLAY_CACHE_SIZE}. */
  readonly replayCacheSize?: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

const encoder = new TextEncoder();
const exportLabel = encoder.encode(RESPONSE_EXPORT_LABEL);
const HEADER_LENGTH = 1 + KEY_ID_LENGTH + ENC_LENGTH;

/** Makes a fresh X25519 key pair for sealed calls. */
export async function createSealingKeyPair(): Promise<SealingKeyPair> {
  const pair = await suite.kem.generateKeyPair();
  return {
    publicKey: new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey)),
    privateKey: new Uint8Array(await suite.kem.serializePrivateKey(pair.privateKey)),
  };
}

/** The key id of a public key: the first 8 bytes of its SHA-256. */
export function sealingKeyId(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).slice(0, KEY_ID_LENGTH);
}

/** The HPKE `info` of a call: the label, a zero byte, and the subject the call is addressed to. */
function requestInfo(subject: string): Uint8Array {
  return encoder.encode(`${REQUEST_INFO_LABEL}\0${subject}`);
}

/** Additional data of a frame: its outer kind, so a relay cannot turn one kind into another. */
function frameAad(kind: string): Uint8Array {
  return encoder.encode(kind);
}

/** Creates the client side of sealing, addressed to `recipientPublicKey` (32 raw bytes). */
export function createRequestSealer(recipientPublicKey: Uint8Array): RequestSealer {
  if (recipientPublicKey.length !== 32) {
    throw new TypeError(`recipientPublicKey must be 32 bytes, got ${recipientPublicKey.length}`);
  }
  const keyId = sealingKeyId(recipientPublicKey);
  const recipient = suite.kem.deserializePublicKey(recipientPublicKey);
  return {
    async seal(subject, kind, content) {
      const sender = await suite.createSenderContext({
        recipientPublicKey: await recipient,
        info: requestInfo(subject),
      });
      const enc = new Uint8Array(sender.enc);
      const plaintext = toBinary(SealedContentSchema, create(SealedContentSchema, content));
      const ciphertext = new Uint8Array(await sender.seal(plaintext, frameAad(kind)));
      const payload = new Uint8Array(HEADER_LENGTH + ciphertext.length);
      payload[0] = SEALED_FORMAT_VERSION;
      payload.set(keyId, 1);
      payload.set(enc, 1 + KEY_ID_LENGTH);
      payload.set(ciphertext, HEADER_LENGTH);
      return { payload, call: new ClientCall(sender, enc) };
    },
  };
}

class ClientCall implements ClientSealedCall {
  private response: ResponseCipher | undefined;
  private responseSeq = 0;
  private readonly secret: Promise<ArrayBuffer>;

  constructor(
    private readonly sender: SenderContext,
    private readonly enc: Uint8Array,
  ) {
    this.secret = sender.export(exportLabel, 32);
  }

  async seal(kind: string, content: SealedContentInit): Promise<Uint8Array> {
    const plaintext = toBinary(SealedContentSchema, create(SealedContentSchema, content));
    return new Uint8Array(await this.sender.seal(plaintext, frameAad(kind)));
  }

  /** Opens the next response frame; the first frame starts with the response nonce. */
  async open(kind: string, payload: Uint8Array): Promise<SealedContent> {
    let ciphertext = payload;
    if (this.response === undefined) {
      if (payload.length < RESPONSE_NONCE_LENGTH) throw unsealable("response frame too short");
      const nonce = payload.subarray(0, RESPONSE_NONCE_LENGTH);
      this.response = new ResponseCipher(new Uint8Array(await this.secret), this.enc, nonce);
      ciphertext = payload.subarray(RESPONSE_NONCE_LENGTH);
    }
    try {
      return fromBinary(
        SealedContentSchema,
        this.response.open(this.responseSeq++, ciphertext, frameAad(kind)),
      );
    } catch {
      throw unsealable(
        "sealed response could not be opened: it was altered, reordered or replayed",
      );
    }
  }
}

/**
 * Creates the server side of sealing for `keyPair`. Requests must be addressed to this key (by
 * key id) and to the subject they arrive on, sealed within the replay window, and used once.
 */
export function createRequestOpener(
  keyPair: SealingKeyPair,
  options: RequestOpenerOptions = {},
): RequestOpener {
  const keyId = sealingKeyId(keyPair.publicKey);
  const privateKey = suite.kem.deserializePrivateKey(keyPair.privateKey);
  const windowMs = options.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS;
  const now = options.now ?? Date.now;
  const seen = new LRUCache<string, true>({
    max: options.replayCacheSize ?? DEFAULT_REPLAY_CACHE_SIZE,
    ttl: 2 * windowMs,
  });
  return {
    async open(subject, kind, payload) {
      if (payload.length <= HEADER_LENGTH) throw unsealable("sealed request too short");
      if (payload[0] !== SEALED_FORMAT_VERSION) {
        throw unsealable(
          `sealed request format ${payload[0]} is not supported (expected ${SEALED_FORMAT_VERSION})`,
        );
      }
      const requestKeyId = payload.subarray(1, 1 + KEY_ID_LENGTH);
      if (!equalBytes(requestKeyId, keyId)) {
        throw new ConnectError(
          `request is sealed to key ${bytesToHex(requestKeyId)}, this server holds ${bytesToHex(keyId)}: fetch a fresh attestation`,
          Code.FailedPrecondition,
        );
      }
      const enc = payload.slice(1 + KEY_ID_LENGTH, HEADER_LENGTH);
      let recipient: RecipientContext;
      let plaintext: Uint8Array;
      try {
        recipient = await suite.createRecipientContext({
          recipientKey: await privateKey,
          enc,
          info: requestInfo(subject),
        });
        plaintext = new Uint8Array(
          await recipient.open(payload.subarray(HEADER_LENGTH), frameAad(kind)),
        );
      } catch {
        throw unsealable(
          "sealed request could not be opened: it was altered, or sealed for another subject or key",
        );
      }
      const content = decode(plaintext);
      const age = now() - Number(content.sealedAtMs);
      if (Math.abs(age) > windowMs) {
        throw unsealable(
          `sealed request is outside the ${windowMs} ms replay window (${age} ms old)`,
        );
      }
      const encKey = bytesToHex(enc);
      if (seen.has(encKey)) throw unsealable("sealed request was already used (replayed)");
      seen.set(encKey, true);
      const secret = new Uint8Array(await recipient.export(exportLabel, 32));
      return { content, call: new ServerCall(recipient, secret, enc) };
    },
  };
}

class ServerCall implements ServerSealedCall {
  private response: ResponseCipher | undefined;
  private responseSeq = 0;

  constructor(
    private readonly recipient: RecipientContext,
    private readonly secret: Uint8Array,
    private readonly enc: Uint8Array,
  ) {}

  async open(kind: string, payload: Uint8Array): Promise<SealedContent> {
    let plaintext: Uint8Array;
    try {
      plaintext = new Uint8Array(await this.recipient.open(payload, frameAad(kind)));
    } catch {
      throw unsealable(
        "sealed request frame could not be opened: it was altered, reordered or replayed",
      );
    }
    return decode(plaintext);
  }

  seal(kind: string, content: SealedContentInit): Uint8Array {
    const plaintext = toBinary(SealedContentSchema, create(SealedContentSchema, content));
    if (this.response === undefined) {
      const nonce = randomBytes(RESPONSE_NONCE_LENGTH);
      this.response = new ResponseCipher(this.secret, this.enc, nonce);
      const ciphertext = this.response.seal(this.responseSeq++, plaintext, frameAad(kind));
      const out = new Uint8Array(nonce.length + ciphertext.length);
      out.set(nonce);
      out.set(ciphertext, nonce.length);
      return out;
    }
    return this.response.seal(this.responseSeq++, plaintext, frameAad(kind));
  }
}

function decode(plaintext: Uint8Array): SealedContent {
  try {
    return fromBinary(SealedContentSchema, plaintext);
  } catch {
    throw unsealable("sealed content is not a valid vettid.rpc.v1.SealedContent");
  }
}

function unsealable(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument);
}
