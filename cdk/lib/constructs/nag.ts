import { Validations } from "aws-cdk-lib";
import type { IConstruct } from "constructs";

/**
 * One acknowledged cdk-nag finding: the rule id (with the finding in brackets where a rule reports
 * several, e.g. `AwsSolutions-IAM5[Resource::…/index/*]`) and why it does not apply or is accepted.
 */
export type Suppression = readonly [rule: string, reason: string];

/** Every rule id acknowledged anywhere in the app, with its reasons (for the README's table). */
export const ACKNOWLEDGED: Map<string, Set<string>> = new Map();

/**
 * Acknowledges cdk-nag findings on a construct and its children (cdk-nag v3 reads CDK's own
 * `Validations.acknowledge`), each with its reason. Refuses anything that is not an AwsSolutions
 * rule id and any reason too short to say why.
 */
export function suppress(construct: IConstruct, suppressions: readonly Suppression[]): void {
  for (const [id, reason] of suppressions) {
    if (!/^AwsSolutions-[A-Z0-9]+(\[.+\])?$/.test(id)) {
      throw new TypeError(`not an AwsSolutions rule id: ${id}`);
    }
    if (reason.trim().length < 20) {
      throw new TypeError(`the reason for ${id} must say why (20 characters at least)`);
    }
    Validations.of(construct).acknowledge({ id, reason });
    const rule = id.replace(/\[.*$/, "");
    ACKNOWLEDGED.set(rule, (ACKNOWLEDGED.get(rule) ?? new Set()).add(reason));
  }
}

/**
 * How cdk-nag writes a resource in a finding id: a CloudFormation value flattened to text, `Ref`
 * as `<Name>`, `Fn::GetAtt` as `<Resource.Attribute>` (cdk-nag's `flattenCfnReference`). Lets a
 * stack acknowledge exactly the wildcard it grants, computed from the same value.
 */
export function flattenForNag(resolved: unknown): string {
  if (resolved === undefined) return "";
  if (typeof resolved === "string") return resolved.replace(/\$\{/g, "<").replace(/\}/g, ">");
  if (typeof resolved === "object" && resolved !== null) {
    const node = resolved as Record<string, unknown>;
    const join = node["Fn::Join"];
    if (Array.isArray(join)) {
      const [delimiter, items] = join as [string, unknown[]];
      return items.map(flattenForNag).join(delimiter);
    }
    if (node["Fn::Sub"] !== undefined) return flattenForNag(node["Fn::Sub"]);
    const getAtt = node["Fn::GetAtt"];
    if (Array.isArray(getAtt)) return `<${flattenForNag(getAtt[0])}.${flattenForNag(getAtt[1])}>`;
    if (node["Fn::ImportValue"] !== undefined) return flattenForNag(node["Fn::ImportValue"]);
    if (node.Ref !== undefined) return `<${flattenForNag(node.Ref)}>`;
  }
  return JSON.stringify(resolved);
}
