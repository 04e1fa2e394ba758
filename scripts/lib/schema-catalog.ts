import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import {
  createRegistry,
  type DescEnum,
  type DescFile,
  type DescMessage,
  type DescService,
  type Registry,
} from "@bufbuild/protobuf";

/** Every schema file the project generated into gen/, with indexes over what they declare. */
export interface SchemaCatalog {
  readonly registry: Registry;
  /** The project's own files (vettid.*), sorted by proto file name. */
  readonly files: readonly DescFile[];
  readonly services: readonly DescService[];
  readonly messages: readonly DescMessage[];
  readonly enums: readonly DescEnum[];
}

const GEN_DIR = new URL("../../gen/", import.meta.url);

/** Imports every `*_pb.ts` module under gen/ and collects the `file_*` descriptors they export. */
export async function loadSchemaCatalog(): Promise<SchemaCatalog> {
  const genPath = GEN_DIR.pathname;
  const files: DescFile[] = [];
  for (const path of listGeneratedModules(genPath)) {
    const module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      if (name.startsWith("file_")) files.push(value as DescFile);
    }
  }
  const own = files
    .filter((file) => file.proto.package.startsWith("vettid."))
    .sort((a, b) => a.proto.name.localeCompare(b.proto.name));
  const messages: DescMessage[] = [];
  const enums: DescEnum[] = [];
  const collect = (list: readonly DescMessage[]) => {
    for (const message of list) {
      messages.push(message);
      enums.push(...message.nestedEnums);
      collect(message.nestedMessages);
    }
  };
  for (const file of own) {
    collect(file.messages);
    enums.push(...file.enums);
  }
  return {
    registry: createRegistry(...own),
    files: own,
    services: own.flatMap((file) => file.services),
    messages,
    enums,
  };
}

function listGeneratedModules(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listGeneratedModules(path));
    else if (entry.name.endsWith("_pb.ts")) out.push(path);
  }
  return out.sort((a, b) => relative(dir, a).localeCompare(relative(dir, b)));
}
