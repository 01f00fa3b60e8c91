import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { TributaryError } from '../../core/errors.js';
import { isNotFound } from '../../core/not-found.js';
import type { TableSpec } from '../../core/tables.js';
import { waitTableActive } from '../../sinks/waiters.js';
import { createTableInput } from './create-input.js';
import { listTableNames } from './list.js';
import type { TablePrefix } from './naming.js';
import { planTable, type PlanOptions, type TableAction } from './plan.js';

/** One table as `tables describe` shows it. */
export interface TableInfo {
  readonly logical: string;
  readonly physical: string;
  readonly status: string;
  readonly items?: number;
  readonly billing: string;
  readonly capacity?: { read: number; write: number };
  readonly stream?: string;
  readonly indexes: readonly string[];
}

/**
 * Plans, creates, lists, describes and drops the tables of an app under an environment prefix.
 * Never touches a table outside the prefix.
 *
 * @example
 * ```ts
 * const m = new TableManager(clients.dynamodb, tablePrefix('dev_'));
 * for (const a of await m.plan(appTables(app))) console.log(a.kind, a.physical);
 * await m.create(appTables(app));
 * ```
 */
export class TableManager {
  constructor(
    private readonly ddb: DynamoDBClient,
    readonly prefix: TablePrefix,
  ) {}

  async plan(specs: readonly TableSpec[], options: PlanOptions = {}): Promise<TableAction[]> {
    return Promise.all(
      specs.map(async (s) =>
        planTable(s, this.prefix.physical(s.name), await this.describeRaw(this.prefix.physical(s.name)), options),
      ),
    );
  }

  /** The physical names, among the given logical ones, of tables that do not exist. */
  async missing(logical: readonly string[]): Promise<string[]> {
    const physical = logical.map((n) => this.prefix.physical(n));
    const found = await Promise.all(physical.map((n) => this.describeRaw(n)));
    return physical.filter((_n, i) => !found[i]);
  }

  /** Creates missing tables and applies updates; idempotent. Conflicts are reported, never forced. */
  async create(
    specs: readonly TableSpec[],
    onAction: (a: TableAction) => void = () => {},
    options: PlanOptions = {},
  ): Promise<TableAction[]> {
    const actions = await this.plan(specs, options);
    for (const a of actions) {
      onAction(a);
      if (a.kind === 'create') await this.createOne(a.spec, a.physical);
      else if (a.kind === 'update') await this.updateOne(a.spec, a.physical);
    }
    const conflicts = actions.filter((a) => a.kind === 'conflict');
    if (conflicts.length) {
      throw new TributaryError(
        'config.invalid',
        `tables that cannot become their spec without being recreated or changing their stream (never forced): ${conflicts.map((c) => `${c.physical} (${c.kind === 'conflict' ? c.problems.join('; ') : ''})`).join(', ')}`,
        {
          details: {
            conflicts: conflicts.map((c) => ({ table: c.physical, problems: c.kind === 'conflict' ? c.problems : [] })),
          },
        },
      );
    }
    return actions;
  }

  /** Physical names of every table inside the prefix. */
  async list(): Promise<string[]> {
    return (await listTableNames(this.ddb)).filter((n) => this.prefix.owns(n)).sort();
  }

  async describe(specs: readonly TableSpec[]): Promise<TableInfo[]> {
    return Promise.all(
      specs.map(async (s) => {
        const physical = this.prefix.physical(s.name);
        const d = await this.describeRaw(physical);
        if (!d) return { logical: s.name, physical, status: 'MISSING', billing: '-', indexes: [] };
        const provisioned =
          d.BillingModeSummary?.BillingMode !== 'PAY_PER_REQUEST' &&
          (d.ProvisionedThroughput?.WriteCapacityUnits ?? 0) > 0;
        return {
          logical: s.name,
          physical,
          status: d.TableStatus ?? '?',
          items: d.ItemCount,
          billing: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
          capacity: provisioned
            ? { read: d.ProvisionedThroughput!.ReadCapacityUnits!, write: d.ProvisionedThroughput!.WriteCapacityUnits! }
            : undefined,
          stream: d.StreamSpecification?.StreamEnabled ? d.StreamSpecification.StreamViewType : undefined,
          indexes: (d.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName!),
        };
      }),
    );
  }

  /**
   * Drops the given tables, each only if it lies inside the prefix (an empty prefix owns nothing,
   * so nothing is dropped without one). Returns the names dropped.
   */
  async drop(physicalNames: readonly string[]): Promise<string[]> {
    const outside = physicalNames.filter((n) => !this.prefix.owns(n));
    if (outside.length)
      throw new TributaryError(
        'config.invalid',
        `refusing to drop tables outside the prefix '${this.prefix.prefix}': ${outside.join(', ')}`,
        { details: { outside } },
      );
    const dropped: string[] = [];
    for (const name of physicalNames) {
      try {
        await this.ddb.send(new DeleteTableCommand({ TableName: name }));
        dropped.push(name);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    return dropped;
  }

  private async describeRaw(physical: string): Promise<TableDescription | undefined> {
    try {
      return (await this.ddb.send(new DescribeTableCommand({ TableName: physical }))).Table;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async createOne(spec: TableSpec, physical: string): Promise<void> {
    try {
      await this.ddb.send(new CreateTableCommand(createTableInput(spec, physical)));
    } catch (e) {
      if ((e as Error).name !== 'ResourceInUseException') throw e;
    }
    await this.waitActive(physical);
    await this.ensureTtl(spec, physical);
  }

  private async updateOne(spec: TableSpec, physical: string): Promise<void> {
    const d = (await this.describeRaw(physical))!;
    const input = createTableInput(spec, physical);
    const mode = d.BillingModeSummary?.BillingMode ?? 'PROVISIONED';
    const capacityChanged =
      input.BillingMode !== mode ||
      (spec.provisioned &&
        (d.ProvisionedThroughput?.ReadCapacityUnits !== spec.provisioned.read ||
          d.ProvisionedThroughput?.WriteCapacityUnits !== spec.provisioned.write));
    if (capacityChanged) {
      await this.ddb.send(
        new UpdateTableCommand({
          TableName: physical,
          BillingMode: input.BillingMode,
          ProvisionedThroughput: input.ProvisionedThroughput,
        }),
      );
      await this.waitActive(physical);
    }
    const stream = d.StreamSpecification?.StreamEnabled ? d.StreamSpecification.StreamViewType : undefined;
    if (spec.stream && stream !== spec.stream) {
      if (stream) {
        await this.ddb.send(
          new UpdateTableCommand({ TableName: physical, StreamSpecification: { StreamEnabled: false } }),
        );
        await this.waitActive(physical);
      }
      await this.ddb.send(
        new UpdateTableCommand({ TableName: physical, StreamSpecification: input.StreamSpecification }),
      );
      await this.waitActive(physical);
    }
    const have = new Set((d.GlobalSecondaryIndexes ?? []).map((g) => g.IndexName));
    for (const g of input.GlobalSecondaryIndexes ?? []) {
      if (have.has(g.IndexName)) continue;
      // One index per UpdateTable: DynamoDB allows a single index creation at a time.
      await this.ddb.send(
        new UpdateTableCommand({
          TableName: physical,
          AttributeDefinitions: input.AttributeDefinitions,
          GlobalSecondaryIndexUpdates: [{ Create: g }],
        }),
      );
      await this.waitActive(physical);
    }
    await this.ensureTtl(spec, physical);
  }

  private async ensureTtl(spec: TableSpec, physical: string): Promise<void> {
    if (!spec.ttlAttribute) return;
    const d = await this.ddb.send(new DescribeTimeToLiveCommand({ TableName: physical }));
    const t = d.TimeToLiveDescription;
    if (
      t?.AttributeName === spec.ttlAttribute &&
      (t.TimeToLiveStatus === 'ENABLED' || t.TimeToLiveStatus === 'ENABLING')
    )
      return;
    await this.ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: physical,
        TimeToLiveSpecification: { Enabled: true, AttributeName: spec.ttlAttribute },
      }),
    );
  }

  /** Waits for the table and its indexes: an index added by UpdateTable backfills after the table is ACTIVE again. */
  private waitActive(physical: string): Promise<void> {
    return waitTableActive(this.ddb, physical, { indexes: true });
  }
}
