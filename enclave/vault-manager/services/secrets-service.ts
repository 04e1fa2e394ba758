import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import type {
  PasswordAuthorization,
  RotatedCredential,
} from "../../../gen/vettid/vault/v1/credential_pb.js";
import {
  DeleteSecretResponseSchema,
  GetSecretResponseSchema,
  ListSecretsResponseSchema,
  ListSecretVersionsResponseSchema,
  PutSecretResponseSchema,
  SecretCategory,
  type SecretMetadata,
  SecretMetadataSchema,
  SecretProtection,
  type SecretsService,
  SecretVersionSchema,
} from "../../../gen/vettid/vault/v1/secrets_pb.js";
import { authorize, rotateCek } from "../credentials.js";
import type { VaultDatabase } from "../vault-database.js";
import { committing } from "./committing.js";
import { ownerGuidOf, type VaultAccess } from "./vault-access.js";

/** Largest secret value: 64 KiB (secrets.proto). */
export const MAX_SECRET_VALUE_BYTES = 64 * 1024;
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;
const encoder = new TextEncoder();

interface SecretRow {
  secret_id: string;
  name: string;
  category: number;
  protection: number;
  content_type: string;
  metadata: string;
  version: number;
  size_bytes: number;
  created_at_ms: number;
  updated_at_ms: number;
}

const PATH = {
  put: "/vettid.vault.v1.SecretsService/PutSecret",
  get: "/vettid.vault.v1.SecretsService/GetSecret",
  delete: "/vettid.vault.v1.SecretsService/DeleteSecret",
} as const;

/** SecretsService: the first data-bearing vault operation; every write is durable before the reply. */
export function createSecretsService(access: VaultAccess): ServiceImpl<typeof SecretsService> {
  /** Password check for a PROTECTED secret: consumes the challenge, rotates the CEK. */
  async function passwordGate(
    db: VaultDatabase,
    authorization: PasswordAuthorization | undefined,
    path: string,
  ): Promise<RotatedCredential> {
    const now = access.now();
    const { contents } = await authorize(db, authorization, path, now);
    return rotateCek(db, contents, now);
  }

  return {
    putSecret(request, context) {
      const nameBytes = encoder.encode(request.name).length;
      if (nameBytes < 1 || nameBytes > 256) {
        throw new ConnectError("name must be 1-256 UTF-8 bytes", Code.InvalidArgument);
      }
      if (request.value.length > MAX_SECRET_VALUE_BYTES) {
        throw new ConnectError(
          `value must be at most ${MAX_SECRET_VALUE_BYTES} bytes`,
          Code.InvalidArgument,
        );
      }
      const entries = Object.entries(request.metadata);
      if (
        entries.length > 32 ||
        entries.some(([k, v]) => k.length < 1 || k.length > 64 || v.length > 1024)
      ) {
        throw new ConnectError(
          "metadata: at most 32 entries, keys 1-64 bytes, values up to 1024 bytes",
          Code.InvalidArgument,
        );
      }
      return access.use(ownerGuidOf(context), (vault) =>
        committing(vault, async (db) => {
          const now = access.now();
          const existing = (
            request.secretId === ""
              ? db.prepare("SELECT * FROM secrets WHERE name = ?").get(request.name)
              : db.prepare("SELECT * FROM secrets WHERE secret_id = ?").get(request.secretId)
          ) as SecretRow | undefined;
          if (request.secretId !== "" && existing === undefined) {
            throw new ConnectError(`no secret with id ${request.secretId}`, Code.NotFound);
          }
          if (request.expectedVersion !== undefined) {
            if (request.expectedVersion === 0n && existing !== undefined) {
              throw new ConnectError(
                `secret ${JSON.stringify(request.name)} already exists`,
                Code.AlreadyExists,
              );
            }
            if (
              request.expectedVersion !== 0n &&
              BigInt(existing?.version ?? 0) !== request.expectedVersion
            ) {
              throw new ConnectError(
                `the secret is at version ${existing?.version ?? 0}, not ${request.expectedVersion}`,
                Code.Aborted,
              );
            }
          }
          const protection =
            request.protection === SecretProtection.UNSPECIFIED
              ? SecretProtection.STANDARD
              : request.protection;
          const needsPassword =
            existing?.protection === SecretProtection.PROTECTED ||
            protection === SecretProtection.PROTECTED;
          const rotated = needsPassword
            ? await passwordGate(db, request.authorization, PATH.put)
            : undefined;
          if (existing !== undefined && existing.name !== request.name) {
            const clash = db.prepare("SELECT 1 FROM secrets WHERE name = ?").get(request.name);
            if (clash !== undefined) {
              throw new ConnectError(
                `another secret is named ${JSON.stringify(request.name)}`,
                Code.AlreadyExists,
              );
            }
          }
          const secretId = existing?.secret_id ?? randomUUID();
          const version = (existing?.version ?? 0) + 1;
          const contentType =
            request.contentType === "" ? "application/octet-stream" : request.contentType;
          const category =
            request.category === SecretCategory.UNSPECIFIED
              ? SecretCategory.OTHER
              : request.category;
          db.prepare(
            `INSERT INTO secrets (secret_id, name, category, protection, content_type, metadata, version, size_bytes, created_at_ms, updated_at_ms)
             VALUES (@secret_id, @name, @category, @protection, @content_type, @metadata, @version, @size_bytes, @now, @now)
             ON CONFLICT (secret_id) DO UPDATE SET name = excluded.name, category = excluded.category,
               protection = excluded.protection, content_type = excluded.content_type, metadata = excluded.metadata,
               version = excluded.version, size_bytes = excluded.size_bytes, updated_at_ms = excluded.updated_at_ms`,
          ).run({
            secret_id: secretId,
            name: request.name,
            category,
            protection,
            content_type: contentType,
            metadata: JSON.stringify(request.metadata),
            version,
            size_bytes: request.value.length,
            now,
          });
          db.prepare(
            "INSERT INTO secret_versions (secret_id, version, value, content_type, created_at_ms) VALUES (?, ?, ?, ?, ?)",
          ).run(secretId, version, request.value, contentType, now);
          return create(PutSecretResponseSchema, {
            secret: metadataOf(
              db.prepare("SELECT * FROM secrets WHERE secret_id = ?").get(secretId) as SecretRow,
            ),
            rotatedCredential: rotated,
          });
        }),
      );
    },
    getSecret(request, context) {
      return access.use(ownerGuidOf(context), async (vault) => {
        const db = vault.db;
        const row = findSecret(db, request.secret);
        const read = async () => {
          const version = request.version === 0n ? row.version : Number(request.version);
          const stored = db
            .prepare(
              "SELECT value, content_type FROM secret_versions WHERE secret_id = ? AND version = ?",
            )
            .get(row.secret_id, version) as { value: Uint8Array; content_type: string } | undefined;
          if (stored === undefined) {
            throw new ConnectError(
              `secret ${row.secret_id} has no version ${version}`,
              Code.NotFound,
            );
          }
          return { version, stored };
        };
        if (row.protection !== SecretProtection.PROTECTED) {
          const { version, stored } = await read();
          return create(GetSecretResponseSchema, {
            secret: metadataOf(row),
            version: BigInt(version),
            value: stored.value,
            contentType: stored.content_type,
          });
        }
        return committing(vault, async (txn) => {
          const rotated = await passwordGate(txn, request.authorization, PATH.get);
          const { version, stored } = await read();
          return create(GetSecretResponseSchema, {
            secret: metadataOf(row),
            version: BigInt(version),
            value: stored.value,
            contentType: stored.content_type,
            rotatedCredential: rotated,
          });
        });
      });
    },
    listSecrets(request, context) {
      const pageSize = pageSizeOf(request.pageSize);
      return access.use(ownerGuidOf(context), async (vault) => {
        const rows = vault.db
          .prepare(
            `SELECT * FROM secrets WHERE name > ? AND (? = 0 OR category = ?) AND substr(name, 1, length(?)) = ?
             ORDER BY name LIMIT ?`,
          )
          .all(
            decodeToken(request.pageToken),
            request.category,
            request.category,
            request.namePrefix,
            request.namePrefix,
            pageSize + 1,
          ) as SecretRow[];
        const page = rows.slice(0, pageSize);
        return create(ListSecretsResponseSchema, {
          secrets: page.map(metadataOf),
          nextPageToken:
            rows.length > pageSize ? encodeToken(page[page.length - 1]?.name ?? "") : "",
        });
      });
    },
    listSecretVersions(request, context) {
      const pageSize = pageSizeOf(request.pageSize);
      return access.use(ownerGuidOf(context), async (vault) => {
        const db = vault.db;
        findSecret(db, { case: "secretId", value: request.secretId });
        const before =
          request.pageToken === ""
            ? Number.MAX_SAFE_INTEGER
            : Number(decodeToken(request.pageToken));
        if (!Number.isSafeInteger(before))
          throw new ConnectError("page_token is not valid", Code.InvalidArgument);
        const rows = db
          .prepare(
            "SELECT version, length(value) AS size, content_type, created_at_ms FROM secret_versions WHERE secret_id = ? AND version < ? ORDER BY version DESC LIMIT ?",
          )
          .all(request.secretId, before, pageSize + 1) as {
          version: number;
          size: number;
          content_type: string;
          created_at_ms: number;
        }[];
        const page = rows.slice(0, pageSize);
        return create(ListSecretVersionsResponseSchema, {
          versions: page.map((row) =>
            create(SecretVersionSchema, {
              version: BigInt(row.version),
              sizeBytes: BigInt(row.size),
              contentType: row.content_type,
              createdAtMs: BigInt(row.created_at_ms),
            }),
          ),
          nextPageToken:
            rows.length > pageSize ? encodeToken(String(page[page.length - 1]?.version ?? 0)) : "",
        });
      });
    },
    deleteSecret(request, context) {
      return access.use(ownerGuidOf(context), (vault) =>
        committing(vault, async (db) => {
          const row = findSecret(db, { case: "secretId", value: request.secretId });
          if (
            request.expectedVersion !== undefined &&
            BigInt(row.version) !== request.expectedVersion
          ) {
            throw new ConnectError(
              `the secret is at version ${row.version}, not ${request.expectedVersion}`,
              Code.Aborted,
            );
          }
          const rotated =
            row.protection === SecretProtection.PROTECTED
              ? await passwordGate(db, request.authorization, PATH.delete)
              : undefined;
          db.prepare("DELETE FROM secrets WHERE secret_id = ?").run(row.secret_id);
          return create(DeleteSecretResponseSchema, {
            deletedAtMs: BigInt(access.now()),
            rotatedCredential: rotated,
          });
        }),
      );
    },
  };
}

function findSecret(
  db: VaultDatabase,
  which: { case: "secretId" | "name"; value: string } | { case: undefined; value?: undefined },
): SecretRow {
  if (which.case === undefined || which.value === "") {
    throw new ConnectError("secret_id or name is required", Code.InvalidArgument);
  }
  const row = db
    .prepare(`SELECT * FROM secrets WHERE ${which.case === "secretId" ? "secret_id" : "name"} = ?`)
    .get(which.value) as SecretRow | undefined;
  if (row === undefined)
    throw new ConnectError(`no secret ${JSON.stringify(which.value)}`, Code.NotFound);
  return row;
}

function metadataOf(row: SecretRow): SecretMetadata {
  return create(SecretMetadataSchema, {
    secretId: row.secret_id,
    name: row.name,
    category: row.category,
    protection: row.protection,
    contentType: row.content_type,
    metadata: JSON.parse(row.metadata) as Record<string, string>,
    version: BigInt(row.version),
    sizeBytes: BigInt(row.size_bytes),
    createdAtMs: BigInt(row.created_at_ms),
    updatedAtMs: BigInt(row.updated_at_ms),
  });
}

function pageSizeOf(requested: number): number {
  if (requested > MAX_PAGE_SIZE) {
    throw new ConnectError(`page_size must be at most ${MAX_PAGE_SIZE}`, Code.InvalidArgument);
  }
  return requested === 0 ? DEFAULT_PAGE_SIZE : requested;
}

function encodeToken(value: string): string {
  return Buffer.from(value, "utf8").toString("base64url");
}

function decodeToken(token: string): string {
  return Buffer.from(token, "base64url").toString("utf8");
}
