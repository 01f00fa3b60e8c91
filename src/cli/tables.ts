import { createInterface } from 'node:readline/promises';
import { appSourceTableNames, appSourceTables, appTables } from '../core/app-tables.js';
import { TributaryError } from '../core/errors.js';
import type { AppDef } from '../core/pipeline.js';
import type { TableSpec } from '../core/tables.js';
import { createClients, destroyClients } from '../runtime/clients.js';
import { TableManager } from '../views/tables/manager.js';
import { tablePrefix } from '../views/tables/naming.js';
import type { TableAction } from '../views/tables/plan.js';

export type TablesVerb = 'plan' | 'create' | 'list' | 'describe' | 'drop';

export interface TablesFlags {
  readonly prefix: string;
  /** drop: do not ask for confirmation. */
  readonly yes: boolean;
  readonly json: boolean;
  /** plan, create: change the view type of a table's enabled stream instead of reporting a conflict. */
  readonly allowStreamChange?: boolean;
  /** drop: drop the source tables too (those the app's sources read, and those under `dev.tables`). */
  readonly includeSources?: boolean;
}

const line = (a: TableAction): string => {
  switch (a.kind) {
    case 'create':
      return `+ create    ${a.physical}`;
    case 'unchanged':
      return `  unchanged ${a.physical}`;
    case 'update':
      return `~ update    ${a.physical}: ${a.changes.join('; ')}`;
    case 'conflict':
      return `! conflict  ${a.physical}: ${a.problems.join('; ')}`;
  }
};

/**
 * `tributary tables <verb> <app.ts> --prefix <env>`: plan shows what create would change, and
 * the source tables that are missing; create is idempotent and changes an enabled stream only with
 * `--allow-stream-change`; list shows the tables inside the prefix; describe shows the app's tables;
 * drop drops the app's tables inside the prefix, its lease and dead-letter tables included, after
 * confirmation (or `--yes`), and nothing else: source tables only with `--include-sources`.
 *
 * @example
 * ```ts
 * process.exitCode = await tablesCommand('plan', await loadApp('examples/shop.ts'), { prefix: 'dev_', yes: false, json: false });
 * ```
 */
export async function tablesCommand(verb: TablesVerb, def: AppDef, flags: TablesFlags): Promise<number> {
  const prefix = tablePrefix(flags.prefix);
  const clients = createClients();
  const out = (s: string) => process.stdout.write(s + '\n');
  try {
    const m = new TableManager(clients.dynamodb, prefix);
    const specs = appTables(def);
    const planOptions = { allowStreamChange: flags.allowStreamChange === true };
    switch (verb) {
      case 'plan': {
        const actions = await m.plan(specs, planOptions);
        const missing = await missingSources(m, def, specs);
        if (flags.json)
          out(
            JSON.stringify(
              [...actions.map(({ spec: _s, ...a }) => a), ...missing.map((x) => ({ kind: 'missingSource', ...x }))],
              null,
              2,
            ),
          );
        else {
          actions.forEach((a) => out(line(a)));
          missing.forEach((x) => out(missingLine(x)));
        }
        return actions.some((a) => a.kind === 'conflict') ? 1 : 0;
      }
      case 'create': {
        await m.create(specs, (a) => out(line(a)), planOptions);
        (await missingSources(m, def, specs)).forEach((x) => out(missingLine(x)));
        return 0;
      }
      case 'list': {
        const names = await m.list();
        const mine = new Set([...specs.map((s) => s.name), ...runnerTables(def)].map((n) => prefix.physical(n)));
        if (flags.json) out(JSON.stringify(names.map((n) => ({ table: n, declared: mine.has(n) }))));
        else names.forEach((n) => out(`${mine.has(n) ? '*' : ' '} ${n}`));
        return 0;
      }
      case 'describe': {
        const infos = await m.describe(specs);
        if (flags.json) out(JSON.stringify(infos, null, 2));
        else
          for (const i of infos)
            out(
              `${i.physical}  ${i.status}  ${i.billing}${i.capacity ? ` ${i.capacity.read}/${i.capacity.write}` : ''}  items=${i.items ?? '-'}  stream=${i.stream ?? '-'}  indexes=${i.indexes.join(',') || '-'}`,
            );
        return 0;
      }
      case 'drop': {
        if (!flags.prefix)
          throw new TributaryError(
            'cli.usage',
            'tables drop needs --prefix: tables without an environment prefix are never dropped',
          );
        const existing = new Set(await m.list());
        const sources = appSourceTableNames(def);
        const kept = specs
          .filter((s) => sources.has(s.name) && !flags.includeSources)
          .map((s) => prefix.physical(s.name));
        const targets = [
          ...specs.filter((s) => flags.includeSources || !sources.has(s.name)).map((s) => s.name),
          ...runnerTables(def),
        ]
          .map((n) => prefix.physical(n))
          .filter((n) => existing.has(n));
        kept.filter((n) => existing.has(n)).forEach((n) => out(`  keep ${n} (a source; --include-sources drops it)`));
        if (targets.length === 0) {
          out('nothing to drop');
          return 0;
        }
        targets.forEach((t) => out(`- drop ${t}`));
        if (
          !flags.yes &&
          !(await confirm(
            `Drop ${targets.length} table(s) inside '${flags.prefix}'? Type the prefix to confirm: `,
            flags.prefix,
          ))
        ) {
          out('not dropped');
          return 1;
        }
        const dropped = await m.drop(targets);
        out(`dropped ${dropped.length}`);
        return 0;
      }
    }
  } finally {
    destroyClients(clients);
  }
}

/** The lease and dead-letter tables the runner creates for itself: dropped with the app, or a new start would resume old checkpoints into empty views. */
const runnerTables = (def: AppDef): string[] => [def.leaseTable, def.deadLetters.tableName];

interface MissingSource {
  readonly physical: string;
  readonly pipelines: readonly string[];
}

/** Source tables no spec declares (so `create` cannot make them) and that do not exist: the app cannot start without them. */
async function missingSources(m: TableManager, def: AppDef, specs: readonly TableSpec[]): Promise<MissingSource[]> {
  const declared = new Set(specs.map((s) => s.name));
  const undeclared = [...appSourceTables(def)].filter(([t]) => !declared.has(t));
  const missing = new Set(await m.missing(undeclared.map(([t]) => t)));
  return undeclared
    .map(([t, pipelines]) => ({ physical: m.prefix.physical(t), pipelines }))
    .filter((x) => missing.has(x.physical));
}

const missingLine = (x: MissingSource): string =>
  `? missing source ${x.physical}: read by ${x.pipelines.join(', ')}; not declared, so not created (create it, or declare it under \`tables\` or \`dev.tables\`)`;

async function confirm(question: string, expected: string): Promise<boolean> {
  if (!process.stdin.isTTY && process.stdin.readableEnded) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await Promise.race([
      rl.question(question),
      new Promise<string>((r) => rl.once('close', () => r(''))),
    ]);
    return answer.trim() === expected;
  } finally {
    rl.close();
  }
}
