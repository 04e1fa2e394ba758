import { ed25519 } from "@noble/curves/ed25519.js";
import { verifyEd25519Strict } from "../../clients/sdk/voting/index.js";
import { verifyEd25519Node } from "../../clients/sdk/voting/node.js";

/** Ed25519 verifications per second on one core, measured in this run. */
export interface Ed25519Baselines {
  /** node:crypto (OpenSSL) behind the strict checks, a new key each time (as for voting keys). */
  readonly nodePerSecond: number;
  /** noble in strict mode (`zip215: false`) behind the same checks. */
  readonly noblePerSecond: number;
}

/** Measures both for about `seconds` each (at most 20,000 signatures), on this thread. */
export function measureEd25519Baselines(seconds: number): Ed25519Baselines {
  const samples = Array.from({ length: 256 }, (_, i) => {
    const secret = ed25519.utils.randomSecretKey();
    const message = new Uint8Array(170).fill(i);
    return {
      publicKey: ed25519.getPublicKey(secret),
      message,
      signature: ed25519.sign(message, secret),
    };
  });
  const rate = (verify: typeof verifyEd25519Node, max: number) => {
    const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
    const started = process.hrtime.bigint();
    let count = 0;
    while (count < max && process.hrtime.bigint() < deadline) {
      const sample = samples[count % samples.length] as (typeof samples)[number];
      if (!verify(sample.signature, sample.message, sample.publicKey))
        throw new Error("baseline signature refused");
      count++;
    }
    return (count * 1e9) / Number(process.hrtime.bigint() - started);
  };
  rate(verifyEd25519Node, 500); // warm up
  return {
    nodePerSecond: rate(verifyEd25519Node, 20_000),
    noblePerSecond: rate(verifyEd25519Strict, 2_000),
  };
}
