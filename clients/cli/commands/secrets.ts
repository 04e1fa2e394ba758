import type { Command } from "commander";
import {
  type GetSecretResponse,
  SecretCategory,
  type SecretMetadata,
  SecretProtection,
  SecretsService,
} from "../../../gen/vettid/vault/v1/secrets_pb.js";
import { usageError } from "../exit-codes.js";
import { readInput } from "../inputs.js";
import { type MemberFlags, openMemberSession, withMemberOptions } from "../member-context.js";
import { type CliIo, outputFor, table, withJsonOption } from "../output.js";
import { readSecret } from "../secret-input.js";

const GET = "/vettid.vault.v1.SecretsService/GetSecret";
const PUT = "/vettid.vault.v1.SecretsService/PutSecret";
const DELETE = "/vettid.vault.v1.SecretsService/DeleteSecret";

/** `vettid secrets list|get|put|delete`. */
export function registerSecrets(program: Command, io: CliIo): void {
  const secrets = program
    .command("secrets")
    .summary("your secrets in the vault: list, get, put, delete")
    .description(
      "Secrets stored in your vault (unlock it first). Protected secrets need your credential password (VETTID_PASSWORD, a prompt, or stdin).",
    );

  withJsonOption(
    withMemberOptions(
      secrets.command("list").summary("list your secrets (names and metadata, never values)"),
      io,
    ),
  ).action(async (flags: MemberFlags) => {
    const output = outputFor(io, flags);
    const { session, close } = await openMemberSession(flags, io);
    try {
      const all: SecretMetadata[] = [];
      let pageToken = "";
      do {
        const page = await session.client(SecretsService).listSecrets({ pageToken });
        all.push(...page.secrets);
        pageToken = page.nextPageToken;
      } while (pageToken !== "");
      output.result({ secrets: all.map(describe) }, () =>
        all.length === 0
          ? "no secrets"
          : table(
              all.map((s) => [
                s.name,
                `v${s.version}, ${s.sizeBytes} bytes${s.protection === SecretProtection.PROTECTED ? ", protected" : ""}`,
              ]),
            ),
      );
    } finally {
      await close();
    }
  });

  withJsonOption(
    withMemberOptions(
      secrets
        .command("get")
        .summary("print a secret's value")
        .argument("<name>", "the secret's name")
        .option("--version <n>", "an older version (default the latest)"),
      io,
    ),
  ).action(async (name: string, flags: MemberFlags & { version?: string }) => {
    const output = outputFor(io, flags);
    const { session, close } = await openMemberSession(flags, io);
    try {
      const version = flags.version === undefined ? 0n : BigInt(flags.version);
      const client = session.client(SecretsService);
      const request = { secret: { case: "name" as const, value: name }, version };
      const listed = await client.listSecrets({ namePrefix: name });
      const meta = listed.secrets.find((s) => s.name === name);
      let got: GetSecretResponse;
      if (meta?.protection === SecretProtection.PROTECTED) {
        const password = await readSecret(io, "credential password: ", "VETTID_PASSWORD");
        got = await session.withPassword(GET, password, (authorization) =>
          client.getSecret({ ...request, authorization }),
        );
      } else {
        got = await client.getSecret(request);
      }
      const text = isText(got.contentType) ? new TextDecoder().decode(got.value) : undefined;
      output.result(
        {
          name,
          version: got.version,
          contentType: got.contentType,
          value: text ?? Buffer.from(got.value).toString("base64"),
          encoding: text === undefined ? "base64" : "utf-8",
        },
        () => text ?? Buffer.from(got.value).toString("base64"),
      );
    } finally {
      await close();
    }
  });

  withJsonOption(
    withMemberOptions(
      secrets
        .command("put")
        .summary("store a secret (a new version if the name exists)")
        .argument("<name>", "the secret's name")
        .option("--file <path>", "read the value from a file (- for stdin)")
        .option("--value <text>", "the value as text (beware: shell history)")
        .option("--protected", "require the credential password to read, change or delete it")
        .option(
          "--category <kind>",
          "login, note, api-key, crypto-key, payment, identity-document, other",
        ),
      io,
    ),
  ).action(
    async (
      name: string,
      flags: MemberFlags & {
        file?: string;
        value?: string;
        protected?: boolean;
        category?: string;
      },
    ) => {
      const output = outputFor(io, flags);
      if ((flags.file === undefined) === (flags.value === undefined))
        throw usageError("give the value with either --file or --value");
      const value =
        flags.value !== undefined
          ? new TextEncoder().encode(flags.value)
          : await readInput(flags.file ?? "-", io, "secret value");
      const category = categoryOf(flags.category);
      const { session, close } = await openMemberSession(flags, io);
      try {
        const client = session.client(SecretsService);
        const listed = await client.listSecrets({ namePrefix: name });
        const existing = listed.secrets.find((s) => s.name === name);
        const request = {
          name,
          value,
          contentType:
            flags.value !== undefined ? "text/plain; charset=utf-8" : "application/octet-stream",
          category,
          protection:
            flags.protected === true
              ? SecretProtection.PROTECTED
              : (existing?.protection ?? SecretProtection.STANDARD),
        };
        const needsPassword = request.protection === SecretProtection.PROTECTED;
        const put = needsPassword
          ? await session.withPassword(
              PUT,
              await readSecret(io, "credential password: ", "VETTID_PASSWORD"),
              (authorization) => client.putSecret({ ...request, authorization }),
            )
          : await client.putSecret(request);
        output.result(
          { secret: put.secret === undefined ? null : describe(put.secret) },
          () => `stored ${name} (version ${put.secret?.version ?? "?"})`,
        );
      } finally {
        await close();
      }
    },
  );

  withJsonOption(
    withMemberOptions(
      secrets
        .command("delete")
        .summary("delete a secret and all its versions")
        .argument("<name>", "the secret's name"),
      io,
    ),
  ).action(async (name: string, flags: MemberFlags) => {
    const output = outputFor(io, flags);
    const { session, close } = await openMemberSession(flags, io);
    try {
      const client = session.client(SecretsService);
      const listed = await client.listSecrets({ namePrefix: name });
      const existing = listed.secrets.find((s) => s.name === name);
      if (existing === undefined) throw usageError(`no secret named ${JSON.stringify(name)}`);
      const deleted =
        existing.protection === SecretProtection.PROTECTED
          ? await session.withPassword(
              DELETE,
              await readSecret(io, "credential password: ", "VETTID_PASSWORD"),
              (authorization) =>
                client.deleteSecret({ secretId: existing.secretId, authorization }),
            )
          : await client.deleteSecret({ secretId: existing.secretId });
      output.result(
        { deleted: name, deletedAt: new Date(Number(deleted.deletedAtMs)).toISOString() },
        () => `deleted ${name}`,
      );
    } finally {
      await close();
    }
  });
}

function describe(secret: SecretMetadata) {
  return {
    id: secret.secretId,
    name: secret.name,
    category: SecretCategory[secret.category],
    protection: SecretProtection[secret.protection],
    version: secret.version.toString(),
    sizeBytes: secret.sizeBytes.toString(),
    updatedAt: new Date(Number(secret.updatedAtMs)).toISOString(),
  };
}

const CATEGORIES: Record<string, SecretCategory> = {
  login: SecretCategory.LOGIN,
  note: SecretCategory.NOTE,
  "api-key": SecretCategory.API_KEY,
  "crypto-key": SecretCategory.CRYPTO_KEY,
  payment: SecretCategory.PAYMENT,
  "identity-document": SecretCategory.IDENTITY_DOCUMENT,
  other: SecretCategory.OTHER,
};

function categoryOf(name: string | undefined): SecretCategory {
  if (name === undefined) return SecretCategory.OTHER;
  const category = CATEGORIES[name];
  if (category === undefined)
    throw usageError(`--category must be one of ${Object.keys(CATEGORIES).join(", ")}`);
  return category;
}

function isText(contentType: string): boolean {
  return contentType.startsWith("text/") || contentType.includes("charset=utf-8");
}
