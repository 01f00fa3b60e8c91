import { TributaryError } from '../../core/errors.js';
import type { IamEnv, Permission } from '../../core/iam.js';
import type { RuntimeOperator } from '../../core/operator.js';
import type { AppDef } from '../../core/pipeline.js';
import { ACCOUNT_PATTERN, policyDocument, REGION_PATTERN, type Grant, type PolicyDocument } from './statements.js';

/** Where the policy's ARNs point and how logical table names become physical ones. */
export interface IamPolicyOptions {
  /** Region of every ARN (`eu-west-1`), or `*`. */
  readonly region: string;
  /** Account id of every ARN. Default `*` (any account). */
  readonly account?: string;
  /** Physical name of a logical table, as the runner's `tableName` (e.g. `tablePrefix('prod_').physical`). Default identity. */
  readonly tableName?: (logical: string) => string;
}

/** A policy, and the parts of the app that declare no permissions (custom sinks or sources): add theirs yourself. */
export interface IamPolicy {
  readonly document: PolicyDocument;
  readonly undeclared: readonly string[];
}

/**
 * The least-privilege IAM policy of a running app (`tributary run`), derived from its definition:
 * the runner's lease and dead-letter tables (created when missing), then each pipeline's source,
 * operators and sinks, each declaring what it calls (`iam(env)`) for the pipeline's guarantee.
 * Actions are concrete (no `dynamodb:*`), resources are the app's tables and streams.
 *
 * @example
 * ```ts
 * const { document } = iamPolicy(shop, { region: 'eu-west-1', account: '123456789012', tableName: tablePrefix('prod_').physical });
 * console.log(JSON.stringify(document, null, 2));
 * ```
 */
export function iamPolicy(app: AppDef, options: IamPolicyOptions): IamPolicy {
  const account = options.account ?? '*';
  if (!REGION_PATTERN.test(options.region))
    throw new TributaryError('config.invalid', `iam: region must be a region name or '*', got '${options.region}'`);
  if (!ACCOUNT_PATTERN.test(account))
    throw new TributaryError('config.invalid', `iam: account must be a 12-digit account id or '*', got '${account}'`);
  const tableName = options.tableName ?? ((n: string) => n);
  const leaseTable = tableName(app.leaseTable);
  const grants: Grant[] = runnerGrants(leaseTable, tableName(app.deadLetters.tableName));
  const undeclared: string[] = [];
  for (const p of app.pipelines) {
    const env: IamEnv = {
      app: app.name,
      tableName,
      stateTable: leaseTable,
      guarantee: p.options.guarantee ?? 'at-least-once',
    };
    const ask = (label: string, part: { iam?(env: IamEnv): readonly Permission[] }, what: string): void => {
      if (typeof part.iam === 'function') grants.push({ label, permissions: part.iam(env) });
      else undeclared.push(what);
    };
    ask(`Source ${p.source.name}`, p.source, `source '${p.source.name}' (pipeline '${p.name}')`);
    // Plain RxJS operators call nothing; those the runner opens (`lookup`) may read tables.
    p.operators.forEach((op, i) => {
      const runtime = op as Partial<RuntimeOperator<unknown, unknown>>;
      if (typeof runtime.open === 'function')
        ask(`Pipeline ${p.name} operators`, runtime, `operator ${i + 1} of pipeline '${p.name}'`);
    });
    for (const s of p.sinks) ask(s.name, s, `sink '${s.name}' (pipeline '${p.name}')`);
  }
  return { document: policyDocument(grants, { region: options.region, account }), undeclared };
}

/** What the runner itself calls, whatever the pipelines. */
function runnerGrants(leaseTable: string, deadLetterTable: string): Grant[] {
  return [
    {
      // LeaseTable.ensure creates it when missing and waits for it (DescribeTable); lease rounds and
      // the status scan it; new leases are puts; takes, renewals, checkpoints, releases and
      // exactly-once progress are conditional updates.
      label: 'LeaseTable',
      permissions: [
        {
          actions: [
            'dynamodb:CreateTable',
            'dynamodb:DescribeTable',
            'dynamodb:Scan',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
          ],
          resource: { type: 'table', table: leaseTable },
        },
      ],
    },
    {
      // DeadLetterTable.ensure creates it when missing; entries go in BatchWriteItem, one by one
      // (PutItem) when DynamoDB refuses a batch.
      label: 'DeadLetters',
      permissions: [
        {
          actions: ['dynamodb:CreateTable', 'dynamodb:DescribeTable', 'dynamodb:BatchWriteItem', 'dynamodb:PutItem'],
          resource: { type: 'table', table: deadLetterTable },
        },
      ],
    },
  ];
}
