import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigurationError } from "./configuration-error.js";
import { readSecret } from "./secrets.js";

const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:vettid/dev/backend-user-AbCdEf";
const reference = { kind: "secrets-manager", arn: ARN } as const;

async function configError(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as Error).message;
  }
  throw new Error("expected a ConfigurationError");
}

describe("reading secrets (AWS stands behind the option seams: it cannot run here)", () => {
  it("outside Lambda (the workers on Fargate) asks Secrets Manager with the task role", async () => {
    const asked: string[] = [];
    const value = await readSecret(reference, {
      env: {},
      secretsManager: async (arn) => {
        asked.push(arn);
        return "-----BEGIN NATS USER JWT-----\n…\n";
      },
      fetch: () => Promise.reject(new Error("the extension must not be asked outside Lambda")),
    });
    expect(asked).toEqual([ARN]);
    expect(value).toBe("-----BEGIN NATS USER JWT-----\n…");
  });

  it("a refusal or an empty secret names the ARN, never a value", async () => {
    const refused = await configError(() =>
      readSecret(reference, {
        env: {},
        secretsManager: () =>
          Promise.reject(Object.assign(new Error("denied"), { name: "AccessDeniedException" })),
      }),
    );
    expect(refused).toContain(ARN);
    expect(refused).toContain("AccessDeniedException");
    expect(
      await configError(() =>
        readSecret(reference, { env: {}, secretsManager: async () => undefined }),
      ),
    ).toContain("has no SecretString");
  });

  it("in Lambda reads through the secrets extension with the session token", async () => {
    const requests: { url: string; token: string | null }[] = [];
    const value = await readSecret(reference, {
      env: { AWS_LAMBDA_FUNCTION_NAME: "enrollment", AWS_SESSION_TOKEN: "session-token" },
      secretsManager: () => Promise.reject(new Error("the SDK must not be used in Lambda")),
      fetch: async (url, init) => {
        requests.push({
          url: String(url),
          token: new Headers(init?.headers).get("X-Aws-Parameters-Secrets-Token"),
        });
        return new Response(JSON.stringify({ SecretString: " secret text \n" }));
      },
    });
    expect(value).toBe("secret text");
    expect(requests).toEqual([
      {
        url: `http://localhost:2773/secretsmanager/get?secretId=${encodeURIComponent(ARN)}`,
        token: "session-token",
      },
    ]);
  });

  it("a file (development) is read and trimmed; a missing one is named", async () => {
    const directory = await mkdtemp(join(tmpdir(), "vettid-secret-"));
    try {
      const path = join(directory, "backend.creds");
      await writeFile(path, "creds text\n");
      expect(await readSecret({ kind: "file", path })).toBe("creds text");
      expect(
        await configError(() => readSecret({ kind: "file", path: join(directory, "missing") })),
      ).toContain("cannot be read (ENOENT)");
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
