import { TributaryError } from '../core/errors.js';
import type { AppDef } from '../core/pipeline.js';
import { parseDuration } from '../core/time.js';
import { jsonLogger } from '../observe/log.js';
import { createClients, destroyClients } from '../runtime/clients.js';
import { redrive, redriveBlocker, type RedriveOutcome } from '../runtime/redrive.js';
import { readDeadLetters, type StoredDeadLetter } from '../sinks/dead-letter-entries.js';
import { tablePrefix } from '../views/tables/naming.js';

export type DeadLettersVerb = 'list' | 'redrive';

/** Flags of `tributary dead-letters`. */
export interface DeadLettersFlags {
  /** Only this pipeline's entries. */
  readonly pipeline?: string;
  /** Only entries written since then: an ISO time or a duration back from now (`1h`, `30m`, `2d`). */
  readonly since?: string;
  /** Print JSON instead of a table. */
  readonly json: boolean;
  /** Environment prefix of the app's tables. */
  readonly prefix: string;
}

/**
 * `tributary dead-letters list|redrive <app.ts>`: `list` prints the app's dead letters (pipeline,
 * position, time, code, whether they can be redriven, reason); `redrive` re-applies them through
 * their pipelines after a fix, marks those that apply as redriven (kept, as history) and leaves the
 * others with their new reason. Resolves with the exit code: `redrive` exits 1 when a record
 * failed again.
 *
 * @example
 * ```ts
 * process.exitCode = await deadLettersCommand('redrive', await loadApp('examples/shop.ts'), { since: '1h', json: false, prefix: '' });
 * ```
 */
export async function deadLettersCommand(verb: DeadLettersVerb, def: AppDef, flags: DeadLettersFlags): Promise<number> {
  const since = flags.since === undefined ? undefined : parseSince(flags.since);
  const tableName = tablePrefix(flags.prefix).physical;
  const clients = createClients();
  const out = (s: string) => process.stdout.write(s + '\n');
  try {
    const entries = await readDeadLetters(clients.dynamodb, tableName(def.deadLetters.tableName), {
      pipeline: flags.pipeline,
      since,
    });
    if (verb === 'list') {
      const rows = entries.map((e) => ({ ...e, redrivable: redriveBlocker(def, e) === undefined }));
      if (flags.json) out(JSON.stringify(rows, null, 2));
      else out(formatList(def, entries));
      return 0;
    }
    // Entries already redriven are history: a redrive leaves them alone.
    const pending = entries.filter((e) => e.redrivenAt === undefined);
    const outcomes = await redrive({ app: def, clients, tableName, log: jsonLogger() }, pending);
    if (flags.json) out(JSON.stringify(outcomes, null, 2));
    else {
      outcomes.forEach((o) => out(outcomeLine(o)));
      const n = (r: RedriveOutcome['result']) => outcomes.filter((o) => o.result === r).length;
      out(`redriven ${n('applied')}, failed again ${n('failed')}, not redrivable ${n('kept')}`);
    }
    return outcomes.some((o) => o.result === 'failed') ? 1 : 0;
  } finally {
    destroyClients(clients);
  }
}

/** `--since`: an ISO time, or a duration back from now. */
export function parseSince(v: string, now = Date.now()): Date {
  if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(v)) return new Date(now - parseDuration(v));
  const t = Date.parse(v);
  if (/^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(t)) return new Date(t);
  throw new TributaryError('cli.usage', `--since must be an ISO time or a duration such as 1h, got '${v}'`);
}

const HEADER = ['PIPELINE', 'POSITION', 'AT', 'CODE', 'STATE', 'REASON'] as const;

function formatList(def: AppDef, entries: readonly StoredDeadLetter[]): string {
  const title = `app '${def.name}' — ${entries.length} dead letter${entries.length === 1 ? '' : 's'}`;
  if (entries.length === 0) return title;
  const cells = entries.map((e) => {
    const why = redriveBlocker(def, e);
    const state = e.redrivenAt ? `redriven ${e.redrivenAt}` : why === undefined ? 'pending' : `kept: ${why}`;
    return [e.pipeline, e.id, e.at ?? '-', e.code ?? '-', state, oneLine(e.message ?? '-')];
  });
  const widths = HEADER.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) =>
    c
      .map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [title, line(HEADER), ...cells.map(line)].join('\n');
}

function outcomeLine(o: RedriveOutcome): string {
  switch (o.result) {
    case 'applied':
      return `applied  ${o.pipeline} ${o.id}`;
    case 'failed':
      return `failed   ${o.pipeline} ${o.id}  ${o.code}: ${oneLine(o.message ?? '')}`;
    case 'kept':
      return `kept     ${o.pipeline} ${o.id}  ${o.message}`;
  }
}

const oneLine = (s: string) => (s.length > 200 ? `${s.slice(0, 200)}…` : s).replace(/\s+/g, ' ');
