import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fromSeed, type KeyPair } from "@nats-io/nkeys";
import { generateControlKeyPem } from "../../clients/sdk/control/index.js";
import {
  createNatsTrust,
  createOperator,
  createSystemAccount,
  createVettidAccount,
  type NatsTrust,
  operatorModeConfig,
} from "../nats-auth/index.js";

/** Key id of the local stack's operator control key (`vettid control --key-id`). */
export const LOCAL_CONTROL_KEY_ID = "local-operator";

/** The files of the state folder, relative to it. */
export const LOCAL_STATE_FILES = {
  /** Seeds of the NATS operator and accounts (0600). */
  natsTrust: "nats-trust.json",
  /** The operator's Ed25519 control key, PKCS#8 PEM (0600), for `vettid control --key`. */
  controlKey: "operator-control.key.pem",
  /** The pinned operator keys, the enclave's file format (`enclave/control/operator-keys-file.ts`). */
  operatorKeys: "operator-keys.json",
  /** The key of development account tokens (hex, 0600). */
  accountTokenKey: "dev-account-token.key",
  /** The org proposal key (proposals, vote list heads), PKCS#8 DER base64 (0600). */
  orgKey: "voting-org.key",
  /** The subscription statement key, PKCS#8 DER base64 (0600). */
  subscriptionKey: "voting-subscription.key",
  /** The public keys the enclave pins for voting (`enclave/voting/voting-keys-file.ts`). */
  votingKeys: "voting-keys.json",
  /** The org key's public half, SPKI PEM, for the admin page and `vettid verify-votes`. */
  orgPublicKey: "voting-org.pub.pem",
  /** The admin bearer token of ProposalService's admin calls (0600). */
  adminToken: "voting-admin.token",
  /** Published vote lists (the filesystem BlobStore). */
  voteLists: "vote-lists",
  /** dynalite's LevelDB. */
  dynamo: "dynamodb",
  /** Credential backups (the filesystem BlobStore). */
  blobs: "blobs",
  /** The enclave host's socket, dev NSM state and vault blobs. */
  enclave: "enclave",
  /** `.creds` files re-issued at each start (their JWTs are short-lived). */
  creds: "creds",
} as const;

/** What the local stack keeps across starts. */
export interface LocalStackState {
  readonly dir: string;
  /** The operator and accounts, JWTs re-issued from the kept seeds at each start. */
  readonly trust: NatsTrust;
  readonly controlKeyFile: string;
  readonly controlKeyId: string;
  readonly operatorKeysFile: string;
  readonly accountTokenKey: Uint8Array;
  /** The org proposal key and the subscription statement key, PKCS#8 DER. */
  readonly votingKeys: { readonly org: Uint8Array; readonly subscription: Uint8Array };
  /** The admin bearer token for CreateProposal and CloseProposal. */
  readonly adminToken: string;
  /** Absolute path of an entry of {@link LOCAL_STATE_FILES}. */
  path(entry: keyof typeof LOCAL_STATE_FILES): string;
}

interface StoredTrust {
  readonly operatorIdentity: string;
  readonly operatorSigning: string;
  readonly systemAccount: string;
  readonly accountIdentity: string;
  readonly accountMemberSigning: string;
  readonly accountServiceSigning: string;
}

/**
 * Loads the local stack's state folder, creating what is missing: the NATS operator and account
 * seeds, the operator control key and its pinned-keys file, the dev account token key, and the
 * folders for dynalite, blobs, the enclave and creds. A second start finds them and reuses them,
 * so members, invitations and vaults survive a restart. Everything secret is written 0600 in a
 * 0700 folder; the folder (`.local/stack/`) is git-ignored.
 */
export async function loadOrCreateLocalStackState(dir: string): Promise<LocalStackState> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = (entry: keyof typeof LOCAL_STATE_FILES) => join(dir, LOCAL_STATE_FILES[entry]);
  for (const folder of ["dynamo", "blobs", "voteLists", "enclave", "creds"] as const) {
    await mkdir(path(folder), { recursive: true, mode: 0o700 });
  }

  let stored = await readJson<StoredTrust>(path("natsTrust"));
  if (stored === undefined) {
    const fresh = await createNatsTrust();
    const seed = (key: KeyPair) => new TextDecoder().decode(key.getSeed());
    stored = {
      operatorIdentity: seed(fresh.operator.identityKey),
      operatorSigning: seed(fresh.operator.signingKey),
      systemAccount: seed(fresh.systemAccount.identityKey),
      accountIdentity: seed(fresh.account.identityKey),
      accountMemberSigning: seed(fresh.account.memberSigningKey),
      accountServiceSigning: seed(fresh.account.serviceSigningKey),
    };
    await writeFile(path("natsTrust"), `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  }
  const key = (seed: string) => fromSeed(new TextEncoder().encode(seed));
  const systemAccountKey = key(stored.systemAccount);
  const operator = await createOperator({
    identityKey: key(stored.operatorIdentity),
    signingKey: key(stored.operatorSigning),
    systemAccountPublicKey: systemAccountKey.getPublicKey(),
  });
  const systemAccount = await createSystemAccount({
    operatorSigningKey: operator.signingKey,
    identityKey: systemAccountKey,
  });
  const account = await createVettidAccount({
    operatorSigningKey: operator.signingKey,
    identityKey: key(stored.accountIdentity),
    memberSigningKey: key(stored.accountMemberSigning),
    serviceSigningKey: key(stored.accountServiceSigning),
  });
  const trust: NatsTrust = {
    operator,
    systemAccount,
    account,
    serverConfig: (accountJwt = account.jwt) =>
      operatorModeConfig({
        operatorJwt: operator.jwt,
        systemAccountJwt: systemAccount.jwt,
        accountJwts: [accountJwt],
      }),
  };

  if ((await readText(path("controlKey"))) === undefined) {
    const generated = generateControlKeyPem();
    await writeFile(path("controlKey"), generated.pem, { mode: 0o600 });
    const keys = {
      keys: [
        {
          keyId: LOCAL_CONTROL_KEY_ID,
          publicKey: Buffer.from(generated.publicKey).toString("base64"),
        },
      ],
    };
    await writeFile(path("operatorKeys"), `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o644 });
  }

  let tokenKey = await readText(path("accountTokenKey"));
  if (tokenKey === undefined) {
    tokenKey = randomBytes(32).toString("hex");
    await writeFile(path("accountTokenKey"), `${tokenKey}\n`, { mode: 0o600 });
  }

  const org = await loadOrCreateP256Key(path("orgKey"));
  const subscription = await loadOrCreateP256Key(path("subscriptionKey"));
  const publicSpki = (pkcs8: Uint8Array) =>
    createPublicKey(createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" }));
  await writeFile(
    path("votingKeys"),
    `${JSON.stringify(
      {
        orgKeys: [publicSpki(org).export({ format: "der", type: "spki" }).toString("base64")],
        subscriptionKeys: [
          publicSpki(subscription).export({ format: "der", type: "spki" }).toString("base64"),
        ],
      },
      null,
      2,
    )}\n`,
    { mode: 0o644 },
  );
  await writeFile(
    path("orgPublicKey"),
    publicSpki(org).export({ format: "pem", type: "spki" }).toString(),
    { mode: 0o644 },
  );
  let adminToken = (await readText(path("adminToken")))?.trim();
  if (adminToken === undefined || adminToken === "") {
    adminToken = randomBytes(24).toString("base64url");
    await writeFile(path("adminToken"), `${adminToken}\n`, { mode: 0o600 });
  }

  return {
    dir,
    trust,
    votingKeys: { org, subscription },
    adminToken,
    controlKeyFile: path("controlKey"),
    controlKeyId: LOCAL_CONTROL_KEY_ID,
    operatorKeysFile: path("operatorKeys"),
    accountTokenKey: Buffer.from(tokenKey.trim(), "hex"),
    path,
  };
}

/** A P-256 private key kept as base64 PKCS#8 DER, made on first use. */
async function loadOrCreateP256Key(file: string): Promise<Uint8Array> {
  const text = await readText(file);
  if (text !== undefined) return new Uint8Array(Buffer.from(text.trim(), "base64"));
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
  await writeFile(file, `${pkcs8.toString("base64")}\n`, { mode: 0o600 });
  return new Uint8Array(pkcs8);
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  const text = await readText(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${file} is not JSON: remove the state folder to start afresh`);
  }
}
