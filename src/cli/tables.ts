import { createInterface } from 'node:readline/promises';
import { appTables } from '../core/app-tables.js';
import { TributaryError } from '../core/errors.js';
import type { AppDef } from '../core/pipeline.js';
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
 * `tributary tables <verb> <app.ts> --prefix <env>`: plan shows what create would change; create
 * is idempotent; list shows the tables inside the prefix; describe shows the app's tables; drop
 * drops the app's tables inside the prefix after confirmation (or `--yes`), and nothing else.
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
    switch (verb) {
      case 'plan': {
        const actions = await m.plan(specs);
        if (flags.json)
          out(
            JSON.stringify(
              actions.map(({ spec: _s, ...a }) => a),
              null,
              2,
            ),
          );
        else actions.forEach((a) => out(line(a)));
        return actions.some((a) => a.kind === 'conflict') ? 1 : 0;
      }
      case 'create': {
        await m.create(specs, (a) => out(line(a)));
        return 0;
      }
      case 'list': {
        const names = await m.list();
        const mine = new Set(specs.map((s) => prefix.physical(s.name)));
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
        const targets = specs.map((s) => prefix.physical(s.name)).filter((n) => existing.has(n));
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
