import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  type KeySchemaElement,
} from "@aws-sdk/client-dynamodb";
import {
  type KeyAttribute,
  TABLES,
  type TableDefinition,
  type TableKey,
  tableName,
} from "./tables.js";

/**
 * How long to wait for a new table to become ACTIVE. dynalite takes `createTableMs` (500 ms by
 * default) per table; DynamoDB a few seconds. Thirty seconds covers a loaded machine.
 */
export const DEFAULT_TABLE_ACTIVE_TIMEOUT_MS = 30_000;

/** Options of {@link ensureTables}. */
export interface EnsureTablesOptions {
  /** Which tables. Default: every table of {@link TABLES}. */
  readonly tables?: readonly TableKey[];
  /** Default {@link DEFAULT_TABLE_ACTIVE_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
}

/**
 * Creates the tables of an environment that do not exist yet, from {@link TABLES}, on-demand
 * billing, and waits until all are ACTIVE. For the local stack and the tests (dynalite); deployed
 * tables come from the CDK Infrastructure stack, built from the same definitions. Existing tables
 * are left as they are.
 */
export async function ensureTables(
  client: DynamoDBClient,
  environment: string,
  options: EnsureTablesOptions = {},
): Promise<void> {
  const keys = options.tables ?? (Object.keys(TABLES) as TableKey[]);
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TABLE_ACTIVE_TIMEOUT_MS);
  for (const key of keys) {
    const name = tableName(environment, key);
    if ((await tableStatus(client, name)) === undefined) {
      try {
        await client.send(new CreateTableCommand(createTableInput(name, TABLES[key])));
      } catch (error) {
        if ((error as { name?: string }).name !== "ResourceInUseException") throw error;
      }
    }
  }
  for (const key of keys) {
    const name = tableName(environment, key);
    while ((await tableStatus(client, name)) !== "ACTIVE") {
      if (Date.now() > deadline) throw new Error(`table ${name} did not become ACTIVE in time`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

async function tableStatus(client: DynamoDBClient, name: string): Promise<string | undefined> {
  try {
    const output = await client.send(new DescribeTableCommand({ TableName: name }));
    return output.Table?.TableStatus ?? "UNKNOWN";
  } catch (error) {
    if ((error as { name?: string }).name === "ResourceNotFoundException") return undefined;
    throw error;
  }
}

function createTableInput(name: string, table: TableDefinition) {
  const attributes = new Map<string, KeyAttribute>();
  const keySchema = (partition: KeyAttribute, sort?: KeyAttribute): KeySchemaElement[] => {
    attributes.set(partition.name, partition);
    const schema: KeySchemaElement[] = [{ AttributeName: partition.name, KeyType: "HASH" }];
    if (sort !== undefined) {
      attributes.set(sort.name, sort);
      schema.push({ AttributeName: sort.name, KeyType: "RANGE" });
    }
    return schema;
  };
  const KeySchema = keySchema(table.partitionKey, table.sortKey);
  const GlobalSecondaryIndexes = (table.globalIndexes ?? []).map((index) => ({
    IndexName: index.name,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    Projection: { ProjectionType: "ALL" as const },
  }));
  const AttributeDefinitions: AttributeDefinition[] = [...attributes.values()].map((a) => ({
    AttributeName: a.name,
    AttributeType: a.type,
  }));
  return {
    TableName: name,
    BillingMode: "PAY_PER_REQUEST" as const,
    KeySchema,
    AttributeDefinitions,
    ...(GlobalSecondaryIndexes.length === 0 ? {} : { GlobalSecondaryIndexes }),
  };
}
