import type { IamAction, IamResource, Permission } from '../../core/iam.js';

/** An IAM policy document, as `aws iam create-policy --policy-document` takes it. */
export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

/** One statement: concrete actions on concrete resources (no wildcard action). */
export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: readonly IamAction[];
  readonly Resource: readonly string[];
}

/** The permissions of one part of an app (a source, a sink, the lease table), labelled for its statements' Sids. */
export interface Grant {
  readonly label: string;
  readonly permissions: readonly Permission[];
}

/** Where the ARNs point: a region (or `*`) and an account id (or `*`). */
export interface ArnScope {
  readonly region: string;
  readonly account: string;
}

/** A region name (`eu-west-1`, `us-gov-west-1`) or `*`. */
export const REGION_PATTERN = /^(\*|[a-z]{2}(-[a-z]+)+-\d+)$/;
/** A 12-digit account id or `*`. */
export const ACCOUNT_PATTERN = /^(\*|\d{12})$/;

/** The ARN partition of a region: `aws-cn` for China, `aws-us-gov` for GovCloud, `aws` otherwise (and for `*`). */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * The ARN of a resource in a scope.
 *
 * @example
 * ```ts
 * resourceArn({ type: 'tableStreams', table: 'prod_orders' }, { region: 'eu-west-1', account: '*' });
 * // 'arn:aws:dynamodb:eu-west-1:*:table/prod_orders/stream/*'
 * ```
 */
export function resourceArn(r: IamResource, scope: ArnScope): string {
  const base = (service: string) => `arn:${partitionOf(scope.region)}:${service}:${scope.region}:${scope.account}`;
  switch (r.type) {
    case 'table':
      return `${base('dynamodb')}:table/${r.table}`;
    case 'tables':
      return `${base('dynamodb')}:table/${r.pattern}`;
    case 'tableStreams':
      return `${base('dynamodb')}:table/${r.table}/stream/*`;
    case 'kinesisStream':
      return `${base('kinesis')}:stream/${r.stream}`;
    case 'arn':
      return r.arn;
  }
}

/** What a statement's Sid says its resources are, when a grant needs more than one statement. */
const KIND: Record<IamResource['type'], string> = {
  table: 'Table',
  tables: 'Tables',
  tableStreams: 'Streams',
  kinesisStream: 'Stream',
  arn: 'Resource',
};

/** A label as a Sid (letters and digits only): `index:orders_by_customer` → `IndexOrdersByCustomer`. */
export function sidOf(label: string): string {
  const words = label.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('') || 'Statement';
}

/**
 * The policy document of some grants: per grant, its resources grouped by the actions they need
 * (one statement per group, its Sid the grant's label, plus what its resources are when the grant
 * needs several), actions and resources sorted, identical statements written once.
 *
 * @example
 * ```ts
 * policyDocument([{ label: 'LeaseTable', permissions: [governedTable('shop_leases', 'dynamodb:Scan')] }], { region: 'eu-west-1', account: '*' });
 * ```
 */
export function policyDocument(grants: readonly Grant[], scope: ArnScope): PolicyDocument {
  const statements: PolicyStatement[] = [];
  const sids = new Set<string>();
  const written = new Set<string>();
  for (const grant of merged(grants)) {
    const byArn = new Map<string, { actions: Set<IamAction>; kind: string }>();
    for (const p of grant.permissions) {
      const arn = resourceArn(p.resource, scope);
      const entry = byArn.get(arn) ?? byArn.set(arn, { actions: new Set(), kind: KIND[p.resource.type] }).get(arn)!;
      for (const a of p.actions) entry.actions.add(a);
    }
    const groups = new Map<string, { actions: IamAction[]; arns: string[]; kinds: Set<string> }>();
    for (const [arn, { actions, kind }] of byArn) {
      if (actions.size === 0) continue;
      const sorted = [...actions].sort();
      const key = sorted.join(',');
      const g = groups.get(key) ?? groups.set(key, { actions: sorted, arns: [], kinds: new Set() }).get(key)!;
      g.arns.push(arn);
      g.kinds.add(kind);
    }
    for (const g of groups.values()) {
      const identity = `${g.actions.join(',')}|${g.arns.sort().join(',')}`;
      if (written.has(identity)) continue;
      written.add(identity);
      const base = sidOf(grant.label) + (groups.size > 1 ? [...g.kinds].sort().join('') : '');
      let sid = base;
      for (let n = 2; sids.has(sid); n++) sid = `${base}${n}`;
      sids.add(sid);
      statements.push({ Sid: sid, Effect: 'Allow', Action: g.actions, Resource: g.arns });
    }
  }
  return { Version: '2012-10-17', Statement: statements };
}

/** Grants of one label (a sink in two pipelines, say) as one, in the order each label first appears. */
function merged(grants: readonly Grant[]): Grant[] {
  const byLabel = new Map<string, Permission[]>();
  for (const g of grants) byLabel.set(g.label, [...(byLabel.get(g.label) ?? []), ...g.permissions]);
  return [...byLabel].map(([label, permissions]) => ({ label, permissions }));
}
