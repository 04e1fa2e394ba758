/**
 * Worker thread of the bench data generator: signs votes for members [start, end) with
 * node:crypto (the members' identity keys are derived from their index, so the data is the same
 * every time apart from the nonces). Each vote goes through the real derivation: voting seed =
 * HKDF-SHA-256(identity seed, proposal id, "vettid-vote-v1"), then voting and enclave signatures
 * over the labelled payload. Returns the entries already framed as PublishedVoteList field 4.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  hkdfSync,
  randomFillSync,
  sign,
} from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  signedMessage,
  VOTE_COUNTERSIGNATURE_CONTEXT,
  VOTE_SIGNATURE_CONTEXT,
  VOTING_KEY_INFO,
  voteHash,
} from "../../clients/sdk/voting/index.js";
import { nodeSha256 } from "../../clients/sdk/voting/node.js";
import { Choice } from "../../gen/vettid/voting/v1/proposal_pb.js";
import { PublishedVoteSchema } from "../../gen/vettid/voting/v1/vote_list_pb.js";
import { SignedVoteSchema, VotePayloadSchema } from "../../gen/vettid/voting/v1/vote_pb.js";

/** What the generator worker is started with. */
export interface GenerateWorkerData {
  readonly proposalId: string;
  readonly proposalHash: Uint8Array;
  readonly castAtMs: number;
  readonly enclaveSeed: Uint8Array;
  readonly enclaveKeyId: string;
}

/** A range of members to vote. */
export interface GenerateRequest {
  readonly start: number;
  readonly end: number;
}

const data = workerData as GenerateWorkerData;
const ZERO_X = Buffer.alloc(32).toString("base64url");

/**
 * An Ed25519 private key object from a 32-byte seed. Node's JWK import derives the public half
 * from `d` (the `x` given is not used), which is much faster than a PKCS#8 import; the generator
 * checks the derived key against noble once, at start.
 */
function keyFromSeed(seed: Uint8Array) {
  return createPrivateKey({
    key: { kty: "OKP", crv: "Ed25519", d: Buffer.from(seed).toString("base64url"), x: ZERO_X },
    format: "jwk",
  });
}

const enclaveKey = keyFromSeed(data.enclaveSeed);

// The JWK shortcut must give the RFC 8032 key: checked against noble once.
{
  const probe = createHash("sha256").update("vettid-bench-probe").digest();
  const derived = createPublicKey(keyFromSeed(probe)).export({ format: "jwk" }).x;
  if (derived !== Buffer.from(ed25519.getPublicKey(probe)).toString("base64url")) {
    throw new Error("node's JWK import did not derive the Ed25519 public key from d");
  }
}

/** The choice member `index` makes: about half YES, a third NO, the rest ABSTAIN. */
export function benchChoice(index: number): Choice {
  const bucket = createHash("sha256").update(`choice-${index}`).digest()[0] as number;
  return bucket < 128 ? Choice.YES : bucket < 213 ? Choice.NO : Choice.ABSTAIN;
}

parentPort?.on("message", (request: GenerateRequest) => {
  const writer = new BinaryWriter();
  const nonce = new Uint8Array(32);
  for (let index = request.start; index < request.end; index++) {
    const identity = createHash("sha256").update(`vettid-bench-member-${index}`).digest();
    const seed = new Uint8Array(hkdfSync("sha256", identity, data.proposalId, VOTING_KEY_INFO, 32));
    const key = keyFromSeed(seed);
    const publicKey = new Uint8Array(
      Buffer.from(String(createPublicKey(key).export({ format: "jwk" }).x), "base64url"),
    );
    randomFillSync(nonce);
    const choice = benchChoice(index);
    const payload = toBinary(
      VotePayloadSchema,
      create(VotePayloadSchema, {
        proposalId: data.proposalId,
        proposalHash: data.proposalHash,
        choice,
        votingPublicKey: publicKey,
        nonce,
        castAtMs: BigInt(data.castAtMs),
        revision: 1,
      }),
    );
    const signedVote = create(SignedVoteSchema, {
      payload,
      votingSignature: new Uint8Array(
        sign(null, signedMessage(VOTE_SIGNATURE_CONTEXT, payload), key),
      ),
      enclaveCountersignature: new Uint8Array(
        sign(null, signedMessage(VOTE_COUNTERSIGNATURE_CONTEXT, payload), enclaveKey),
      ),
      enclaveKeyId: data.enclaveKeyId,
    });
    const entry = create(PublishedVoteSchema, {
      voteHash: voteHash(signedVote, nodeSha256),
      choice,
      votingPublicKey: publicKey,
      signedVote,
    });
    writer.tag(4, 2).bytes(toBinary(PublishedVoteSchema, entry));
  }
  const framed = writer.finish();
  parentPort?.postMessage(framed, [framed.buffer as ArrayBuffer]);
});
