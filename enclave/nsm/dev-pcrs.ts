import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { sha384 } from "@noble/hashes/sha2.js";
import { measureCodeBundle } from "./code-bundle.js";
import { PCR_COUNT, PCR_LENGTH } from "./constants.js";
import { NsmError } from "./nsm-error.js";

/**
 * What the dev NSM measures into PCR0–2. On Nitro these are the image (PCR0), the kernel and boot
 * ramdisk (PCR1) and the application (PCR2); the dev NSM has no image, so each PCR measures one
 * stated input instead, and each can be recomputed with coreutils:
 *
 * | PCR | input | recompute |
 * |---|---|---|
 * | 0 | the enclave code bundle: `enclave/` sources, tests and test data left out | `measureCodeBundle` (its comment has the shell line) |
 * | 1 | the runtime, `node/<version> <platform>-<arch>` | `printf %s "node/20.19.0 linux-x64" \| sha384sum` |
 * | 2 | the dependency lock file, `package-lock.json` | `sha384sum package-lock.json` |
 *
 * PCRs 3–15 are zero (no parent role, instance or signing certificate to measure).
 * Unlike Nitro's, the dev PCR0 does not cover PCR1's and PCR2's inputs: match all three.
 */
export interface DevPcrInputs {
  /** Directory of the enclave code bundle (PCR0). Default: this checkout's `enclave/`. */
  readonly codeDir: string;
  /** Runtime description (PCR1). Default: {@link defaultRuntimeDescription}. */
  readonly runtime: string;
  /** Dependency lock file (PCR2). Default: this checkout's `package-lock.json`. */
  readonly lockFile: string;
}

/** Options of {@link measureDevPcrs}. */
export interface MeasureDevPcrsOptions {
  /** Debug mode: PCR0–2 are all zeros, as Nitro reports for an enclave started with `--debug-mode`. */
  readonly debug?: boolean;
  /**
   * Values that replace the measured ones at given indexes (0–15, 48 bytes each): for tests of
   * PCR matching, or to imitate PCR3/PCR4/PCR8. Debug mode still zeroes PCR0–2.
   */
  readonly overrides?: Readonly<Record<number, Uint8Array>>;
}

/** The runtime the dev enclave boots on, as PCR1 measures it: `node/<version> <platform>-<arch>`. */
export function defaultRuntimeDescription(): string {
  return `node/${process.versions.node} ${process.platform}-${process.arch}`;
}

/** The inputs of this checkout: `enclave/`, the running Node.js, and `package-lock.json`. */
export function defaultDevPcrInputs(): DevPcrInputs {
  return {
    codeDir: fileURLToPath(new URL("../", import.meta.url)),
    runtime: defaultRuntimeDescription(),
    lockFile: fileURLToPath(new URL("../../package-lock.json", import.meta.url)),
  };
}

/**
 * Measures `inputs` into PCRs 0–15 (48 bytes each), as the table on {@link DevPcrInputs} says.
 *
 * @throws NsmError `state_invalid` when the code directory or the lock file cannot be read;
 *   `invalid_argument` for an override outside 0–15 or not 48 bytes long.
 */
export async function measureDevPcrs(
  inputs: DevPcrInputs,
  options: MeasureDevPcrsOptions = {},
): Promise<Map<number, Uint8Array>> {
  const overrides = checkPcrOverrides(options.overrides ?? {});

  const pcrs = new Map<number, Uint8Array>();
  for (let index = 0; index < PCR_COUNT; index++) pcrs.set(index, new Uint8Array(PCR_LENGTH));
  pcrs.set(0, await measureCodeBundle(inputs.codeDir));
  pcrs.set(1, sha384(new TextEncoder().encode(inputs.runtime)));
  pcrs.set(2, sha384(await readLockFile(inputs.lockFile)));
  for (const [index, value] of overrides) pcrs.set(index, Uint8Array.from(value));
  if (options.debug === true) {
    for (const index of [0, 1, 2]) pcrs.set(index, new Uint8Array(PCR_LENGTH));
  }
  return pcrs;
}

/**
 * Checks PCR overrides: indexes 0–15, values of 48 bytes. Returns them as `[index, value]` pairs.
 *
 * @throws NsmError `invalid_argument` naming the index that is wrong.
 */
export function checkPcrOverrides(
  overrides: Readonly<Record<number, Uint8Array>>,
): (readonly [number, Uint8Array])[] {
  return Object.entries(overrides).map(([key, value]) => {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= PCR_COUNT) {
      throw new NsmError(
        "invalid_argument",
        `PCR override index ${key} is outside 0–${PCR_COUNT - 1}`,
      );
    }
    if (!(value instanceof Uint8Array) || value.length !== PCR_LENGTH) {
      throw new NsmError(
        "invalid_argument",
        `PCR override ${index} must be ${PCR_LENGTH} bytes, got ${value instanceof Uint8Array ? value.length : typeof value}`,
      );
    }
    return [index, value] as const;
  });
}

async function readLockFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new NsmError("state_invalid", `cannot read the dependency lock file ${path} (PCR2)`, {
      cause,
    });
  }
}
