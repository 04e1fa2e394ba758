import {
  DeleteItemCommand,
  type DynamoDB,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { Item } from "./attribute-values.js";
import { isConditionalCheckFailed, storageUnavailable } from "./storage-errors.js";
import { type TableKey, tableName } from "./tables.js";

/** The tables of one environment, reached through one client. */
export interface DynamoContext {
  /** The aggregated client ({@link createDynamoClient}). */
  readonly client: DynamoDB;
  /** The environment part of the table names (`tableName(environment, …)`). */
  readonly environment: string;
}

/** A condition or update expression with its placeholders. */
export interface Expression {
  readonly expression: string;
  readonly names?: Readonly<Record<string, string>>;
  readonly values?: Item;
}

/**
 * One table, with the few calls the repositories make. Every call reads consistently; a
 * condition that fails is an outcome (`false` / `undefined`), not an error; every other failure
 * becomes `unavailable` ({@link storageUnavailable}) with the SDK error as its cause.
 */
export class TableAccess {
  /** The physical table name. */
  readonly name: string;

  constructor(
    private readonly context: DynamoContext,
    table: TableKey,
  ) {
    this.name = tableName(context.environment, table);
  }

  /** The item under `key`, or undefined. */
  async get(key: Item): Promise<Item | undefined> {
    try {
      const output = await this.context.client.send(
        new GetItemCommand({ TableName: this.name, Key: key, ConsistentRead: true }),
      );
      return output.Item;
    } catch (error) {
      throw storageUnavailable("read", this.name, error);
    }
  }

  /** Writes `item` if `condition` holds (or always); false when the condition failed. */
  async put(item: Item, condition?: Expression): Promise<boolean> {
    try {
      await this.context.client.send(
        new PutItemCommand({
          TableName: this.name,
          Item: item,
          ...expressionParts(condition, "ConditionExpression"),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw storageUnavailable("write", this.name, error);
    }
  }

  /**
   * Applies `update` to the item under `key` if `condition` holds; resolves with the item as it
   * is afterwards, or undefined when the condition failed.
   */
  async update(key: Item, update: Expression, condition?: Expression): Promise<Item | undefined> {
    const names = { ...update.names, ...condition?.names };
    const values = { ...update.values, ...condition?.values };
    try {
      const output = await this.context.client.send(
        new UpdateItemCommand({
          TableName: this.name,
          Key: key,
          UpdateExpression: update.expression,
          ...(condition === undefined ? {} : { ConditionExpression: condition.expression }),
          ...(Object.keys(names).length === 0 ? {} : { ExpressionAttributeNames: names }),
          ...(Object.keys(values).length === 0 ? {} : { ExpressionAttributeValues: values }),
          ReturnValues: "ALL_NEW",
        }),
      );
      return output.Attributes ?? {};
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw storageUnavailable("update", this.name, error);
    }
  }

  /** Deletes the item under `key` if `condition` holds; false when it did not. */
  async delete(key: Item, condition?: Expression): Promise<boolean> {
    try {
      await this.context.client.send(
        new DeleteItemCommand({
          TableName: this.name,
          Key: key,
          ...expressionParts(condition, "ConditionExpression"),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw storageUnavailable("delete", this.name, error);
    }
  }

  /**
   * Every item matching the key condition, following pagination, at most `limit` items (a bound
   * so one member's rows can never make a call unbounded). On an index, reads are eventually
   * consistent (DynamoDB allows nothing else there).
   */
  async query(
    keyCondition: Expression,
    options: { readonly index?: string; readonly limit: number },
  ): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    try {
      do {
        const output = await this.context.client.send(
          new QueryCommand({
            TableName: this.name,
            ...(options.index === undefined
              ? { ConsistentRead: true }
              : { IndexName: options.index }),
            ...expressionParts(keyCondition, "KeyConditionExpression"),
            Limit: options.limit - items.length,
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        );
        items.push(...(output.Items ?? []));
        start = output.LastEvaluatedKey;
      } while (start !== undefined && items.length < options.limit);
    } catch (error) {
      throw storageUnavailable("query", this.name, error);
    }
    return items;
  }

  /**
   * How many items match `filter`, over the whole table (a paginated Scan returning counts only).
   * Linear in the table's size: for rare reads, such as a proposal's eligible members at close.
   */
  async count(filter: Expression): Promise<number> {
    let total = 0;
    let start: Item | undefined;
    try {
      do {
        const output = await this.context.client.send(
          new ScanCommand({
            TableName: this.name,
            Select: "COUNT",
            ConsistentRead: true,
            ...expressionParts(filter, "FilterExpression"),
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        );
        total += output.Count ?? 0;
        start = output.LastEvaluatedKey;
      } while (start !== undefined);
    } catch (error) {
      throw storageUnavailable("scan", this.name, error);
    }
    return total;
  }
}

function expressionParts(
  expression: Expression | undefined,
  field: "ConditionExpression" | "KeyConditionExpression" | "FilterExpression",
) {
  if (expression === undefined) return {};
  return {
    [field]: expression.expression,
    ...(expression.names === undefined || Object.keys(expression.names).length === 0
      ? {}
      : { ExpressionAttributeNames: { ...expression.names } }),
    ...(expression.values === undefined || Object.keys(expression.values).length === 0
      ? {}
      : { ExpressionAttributeValues: { ...expression.values } }),
  };
}
