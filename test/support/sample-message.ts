import {
  create,
  type DescField,
  type DescMessage,
  type Message,
  ScalarType,
} from "@bufbuild/protobuf";
import { type ReflectMessage, reflect } from "@bufbuild/protobuf/reflect";

/**
 * Builds a message with every field set to a non-default value (for oneofs, the member chosen by
 * `oneofChoice`), so that a round trip exercises every field's encoding. Recursion stops at `depth`.
 */
export function sampleMessage(
  schema: DescMessage,
  options: { readonly oneofChoice?: number; readonly depth?: number } = {},
): Message {
  const message = create(schema);
  fill(reflect(schema, message), options.oneofChoice ?? 0, options.depth ?? 3);
  return message;
}

function fill(target: ReflectMessage, oneofChoice: number, depth: number): void {
  for (const member of target.desc.members) {
    if (member.kind === "oneof") {
      const field = member.fields[oneofChoice % member.fields.length];
      if (field !== undefined) setField(target, field, oneofChoice, depth);
    } else {
      setField(target, member, oneofChoice, depth);
    }
  }
}

function setField(target: ReflectMessage, field: DescField, oneofChoice: number, depth: number) {
  switch (field.fieldKind) {
    case "scalar":
      target.set(field, scalarSample(field.scalar, field.number));
      return;
    case "enum":
      target.set(field, enumSample(field));
      return;
    case "message": {
      if (depth <= 0) return;
      const sub = target.get(field);
      fill(sub, oneofChoice, depth - 1);
      target.set(field, sub);
      return;
    }
    case "list": {
      const list = target.get(field);
      for (let i = 0; i < 2; i++) {
        if (field.listKind === "scalar") list.add(scalarSample(field.scalar, field.number + i));
        else if (field.listKind === "enum") list.add(enumSample(field));
        else if (depth > 0) {
          const item = reflect(field.message);
          fill(item, oneofChoice, depth - 1);
          list.add(item);
        }
      }
      return;
    }
    case "map": {
      const map = target.get(field);
      const key = scalarSample(field.mapKey, 7);
      if (field.mapKind === "scalar") map.set(key, scalarSample(field.scalar, field.number));
      else if (field.mapKind === "enum") map.set(key, enumSample(field));
      else if (depth > 0) {
        const value = reflect(field.message);
        fill(value, oneofChoice, depth - 1);
        map.set(key, value);
      }
      return;
    }
  }
}

function enumSample(field: { enum: { values: readonly { number: number }[] } }): number {
  return (field.enum.values.find((v) => v.number !== 0) ?? field.enum.values[0])?.number ?? 0;
}

function scalarSample(
  type: ScalarType,
  seed: number,
): string | number | bigint | boolean | Uint8Array {
  switch (type) {
    case ScalarType.STRING:
      return `sample-${seed}-✓`;
    case ScalarType.BYTES:
      return new Uint8Array([seed & 0xff, 0, 255, 128]);
    case ScalarType.BOOL:
      return true;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return seed + 0.5;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return -BigInt(seed) * 1_000_000_007n;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return BigInt(seed) * 1_000_000_007n;
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return -seed - 1;
    default:
      return seed + 1;
  }
}
