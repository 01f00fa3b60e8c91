import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { IAM_ACTIONS } from '../../src/core/iam.js';
import type { KinesisRecord } from '../../src/core/records.js';
import {
  app,
  counterView,
  dynamodbTable,
  eventTable,
  kinesisBridge,
  kinesisStream,
  lookup,
  mirror,
  pipeline,
  put,
  replay,
  tableWriter,
} from '../../src/index.js';
import { iamPolicy } from '../../src/runtime/iam/policy.js';
import { resourceArn, type PolicyDocument } from '../../src/runtime/iam/statements.js';
import { memorySource } from '../../src/testing/memory-source.js';
import { tablePrefix } from '../../src/views/tables/naming.js';
import shop from '../../examples/shop.js';
import eventLog from '../../examples/event-log.js';

const scope = { region: 'eu-west-1', account: '123456789012' };

/** The actions of the statements on a resource ARN. */
function actionsOn(policy: PolicyDocument, arn: string): string[] {
  return policy.Statement.filter((s) => s.Resource.includes(arn))
    .flatMap((s) => s.Action)
    .sort();
}

const table = (name: string) => `arn:aws:dynamodb:eu-west-1:123456789012:table/${name}`;
const stream = (name: string) => `arn:aws:kinesis:eu-west-1:123456789012:stream/${name}`;

describe('iamPolicy', () => {
  it("covers examples/shop.ts: the runner's tables, the sources and every view, with the environment prefix on tables only", () => {
    const { document, undeclared } = iamPolicy(shop, { ...scope, tableName: tablePrefix('prod_').physical });
    expect(undeclared).toEqual([]);
    expect(document.Version).toBe('2012-10-17');
    expect(actionsOn(document, table('prod_shop_leases'))).toEqual([
      'dynamodb:CreateTable',
      'dynamodb:DescribeTable',
      'dynamodb:PutItem',
      'dynamodb:Scan',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn(document, table('prod_shop_dead_letters'))).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:CreateTable',
      'dynamodb:DescribeTable',
      'dynamodb:PutItem',
    ]);
    expect(actionsOn(document, table('prod_shop_orders'))).toEqual(['dynamodb:DescribeTable']);
    expect(actionsOn(document, `${table('prod_shop_orders')}/stream/*`)).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
    ]);
    expect(actionsOn(document, stream('shop_clicks'))).toEqual([
      'kinesis:DescribeStreamSummary',
      'kinesis:GetRecords',
      'kinesis:GetShardIterator',
      'kinesis:ListShards',
    ]);
    expect(actionsOn(document, table('prod_shop_orders_by_customer'))).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:DescribeTable',
    ]);
    expect(actionsOn(document, table('prod_shop_open_orders'))).toEqual([
      'dynamodb:DescribeTable',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn(document, table('prod_shop_page_last_click'))).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:DescribeTable',
    ]);
    // Nothing else: every resource is one of the app's.
    const resources = new Set(document.Statement.flatMap((s) => s.Resource));
    expect([...resources].sort()).toEqual(
      [
        table('prod_shop_leases'),
        table('prod_shop_dead_letters'),
        table('prod_shop_orders'),
        `${table('prod_shop_orders')}/stream/*`,
        stream('shop_clicks'),
        table('prod_shop_orders_by_customer'),
        table('prod_shop_open_orders'),
        table('prod_shop_page_clicks'),
        table('prod_shop_page_last_click'),
      ].sort(),
    );
  });

  it('names concrete actions only, each statement with a unique alphanumeric Sid', () => {
    const { document } = iamPolicy(shop, scope);
    for (const s of document.Statement) {
      expect(s.Effect).toBe('Allow');
      expect(s.Sid).toMatch(/^[A-Za-z0-9]+$/);
      for (const a of s.Action) expect(IAM_ACTIONS).toContain(a);
      expect(s.Action.join()).not.toMatch(/[*?]/);
    }
    const sids = document.Statement.map((s) => s.Sid);
    expect(new Set(sids).size).toBe(sids.length);
  });

  it('asks each sink for the guarantee of its pipeline: exactly-once writes single items and reads them back', () => {
    type Click = { page: string };
    const clicks = kinesisStream<Click>('clicks');
    const counts = counterView<KinesisRecord<Click>>({
      table: 'counts',
      partitionKey: 'page',
      key: (r) => ({ page: r.value.page }),
      add: { n: 1 },
    });
    const writer = tableWriter('last_click');
    const def = app('eo', [
      pipeline('count').from(clicks).with({ guarantee: 'exactly-once' }).to(counts),
      pipeline('last')
        .from(clicks)
        .with({ guarantee: 'exactly-once' })
        .pipe(map((r) => put({ page: r.value.page })))
        .to(writer),
    ]);
    const { document } = iamPolicy(def, scope);
    expect(actionsOn(document, table('counts'))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:DescribeTable',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn(document, table('last_click'))).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:DeleteItem',
      'dynamodb:DescribeTable',
      'dynamodb:PutItem',
    ]);
  });

  it('covers a rotating event table by a pattern of its periods, and its replay', () => {
    const { document } = iamPolicy(eventLog, { ...scope, tableName: tablePrefix('dev_').physical });
    expect(actionsOn(document, table('dev_event_log_????_??_??'))).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:DescribeTable',
    ]);
    const replayed = app('r', [
      pipeline('again')
        .from(replay({ view: eventLog.pipelines[0]!.sinks[0] as never, from: new Date(0) }))
        .pipe(map((e) => put({ id: e.id })))
        .to(tableWriter('copy')),
    ]);
    expect(actionsOn(iamPolicy(replayed, scope).document, table('event_log_????_??_??'))).toEqual([
      'dynamodb:DescribeTable',
      'dynamodb:Query',
    ]);
    const fixed = eventTable<{ at: number }>({ table: 'log', time: (e) => e.at, bucket: '1h', writeShards: 2 });
    const def = app('f', [
      pipeline('p')
        .from(memorySource<{ at: number }>('m', []))
        .with({ guarantee: 'exactly-once' })
        .pipe(map((r) => r.value))
        .to(fixed),
    ]);
    expect(actionsOn(iamPolicy(def, scope).document, table('log'))).toEqual([
      'dynamodb:DescribeTable',
      'dynamodb:PutItem',
    ]);
  });

  it('covers a backfill, a stream given by ARN, the Kinesis bridge, mirrors and lookups', () => {
    type User = { userId: string };
    const arn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/users/stream/2026-01-01T00:00:00.000';
    const def = app('all', [
      pipeline('backfilled')
        .from(dynamodbTable<User>('users', { backfill: { segments: 2 } }))
        .to(kinesisBridge<User>('users_changes')),
      pipeline('by-arn')
        .from(dynamodbTable<User>(arn, { name: 'users-by-arn' }))
        .to(mirror<User>({ tables: ['users_eu', 'users_us'], partitionKey: { name: 'userId', type: 'S' } })),
      pipeline('looked-up')
        .from(kinesisStream<User>('signups'))
        .pipe(
          lookup({ get: { table: 'profiles', key: (r) => ({ userId: r.value.userId }) }, cache: { ttlMs: 1, max: 1 } }),
          map(({ record }) => put({ userId: record.value.userId })),
        )
        .to(tableWriter('by_user')),
    ]);
    const { document, undeclared } = iamPolicy(def, scope);
    expect(undeclared).toEqual([]);
    expect(actionsOn(document, table('users'))).toEqual(['dynamodb:DescribeTable', 'dynamodb:Scan']);
    // A backfill's pages live in the lease table.
    expect(actionsOn(document, table('all_leases'))).toContain('dynamodb:GetItem');
    expect(actionsOn(document, arn)).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
    ]);
    expect(actionsOn(document, stream('users_changes'))).toEqual([
      'kinesis:DescribeStreamSummary',
      'kinesis:PutRecords',
    ]);
    for (const t of ['users_eu', 'users_us'])
      expect(actionsOn(document, table(t))).toEqual(['dynamodb:DescribeTable', 'dynamodb:PutItem']);
    expect(actionsOn(document, table('profiles'))).toEqual(['dynamodb:BatchGetItem', 'dynamodb:DescribeTable']);
  });

  it('reports sources, sinks and runtime operators that declare nothing, and validates region and account', () => {
    const def = app('custom', [
      pipeline('p')
        .from({ name: 'mine', kind: 'custom', startPosition: 'LATEST', bind: async () => ({}) as never })
        .pipe(
          Object.assign(
            map((x: unknown) => x),
            { open: async () => undefined },
          ),
        )
        .to({ name: 'my-sink', write: async () => undefined }),
    ]);
    expect(iamPolicy(def, scope).undeclared).toEqual([
      "source 'mine' (pipeline 'p')",
      "operator 1 of pipeline 'p'",
      "sink 'my-sink' (pipeline 'p')",
    ]);
    expect(() => iamPolicy(def, { region: 'nowhere' })).toThrow(expect.objectContaining({ code: 'config.invalid' }));
    expect(() => iamPolicy(def, { region: '*', account: 'me' })).toThrow(
      expect.objectContaining({ code: 'config.invalid' }),
    );
  });

  it('writes ARNs in the partition of the region, and any region or account as *', () => {
    expect(resourceArn({ type: 'table', table: 't' }, { region: 'cn-north-1', account: '*' })).toBe(
      'arn:aws-cn:dynamodb:cn-north-1:*:table/t',
    );
    expect(resourceArn({ type: 'kinesisStream', stream: 's' }, { region: 'us-gov-west-1', account: '1' })).toBe(
      'arn:aws-us-gov:kinesis:us-gov-west-1:1:stream/s',
    );
    expect(iamPolicy(shop, { region: '*' }).document.Statement[0]!.Resource).toEqual([
      'arn:aws:dynamodb:*:*:table/shop_leases',
    ]);
  });
});
