import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isTributaryError, TributaryError } from '../core/errors.js';
import { deadLettersCommand, type DeadLettersFlags, type DeadLettersVerb } from './dead-letters.js';
import { devCommand, type DevFlags } from './dev.js';
import { cliFailure } from './failure.js';
import { loadApp } from './load-app.js';
import { runCommand, type RunFlags } from './run.js';
import { statusCommand } from './status.js';
import { tablesCommand, type TablesFlags, type TablesVerb } from './tables.js';

/** Exit codes of the `tributary` command (a second SIGINT/SIGTERM exits with 130). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export const USAGE = `Usage: tributary <command> <app.ts> [options]

Commands:
  run <app.ts>      Run the app against AWS (or the endpoints in the environment) until SIGTERM/SIGINT
      --worker-id <id>             this worker's identity in the lease table
      --shutdown-deadline-ms <n>   time a graceful stop may take (default 30000)
  dev <app.ts>      Start local emulators, create the app's dev tables and streams, run the app
                    with its dev traffic, and print progress and its dev report
      --duration-ms <n>            stop by itself after n ms (default: run until Ctrl-C)
  status <app.ts>   Print each shard's owner, checkpoint and lag from the app's lease table
      --json                       print JSON instead of a table
  tables <plan|create|list|describe|drop> <app.ts>
                    Manage the app's tables (views, sources) under an environment prefix
      --prefix <env_>              environment prefix of physical names (required for drop)
      --yes                        drop without asking
      --allow-stream-change        plan/create: change the view type of an enabled stream
                                   (orphans every consumer's checkpoints; a conflict otherwise)
      --include-sources            drop: drop the source tables too
      --json                       print JSON
  dead-letters <list|redrive> <app.ts>
                    list: print the app's dead letters; redrive: re-apply them through their
                    pipelines after a fix (applied ones are marked redriven, the others keep
                    their new reason; exit 1 if any failed again)
      --pipeline <name>            only this pipeline's entries
      --since <time>               only entries written since an ISO time or a duration ago (1h, 30m, 2d)
      --json                       print JSON
      --prefix <env_>              environment prefix of the app's tables

  run and status also take --prefix <env_>: tables (leases and dead letters included) are prefixed.

Environment: AWS_REGION (required unless an endpoint is overridden), TRIBUTARY_DYNAMODB_ENDPOINT,
  TRIBUTARY_KINESIS_ENDPOINT, TRIBUTARY_LOG_LEVEL (debug also prints stacks of errors)
Exit codes: 0 done, 1 failed, 2 usage error (missing AWS_REGION included), 130 forced by a second signal
`;

/** A parsed command line. */
export type Command =
  | { readonly name: 'help' }
  | { readonly name: 'run'; readonly app: string; readonly flags: RunFlags }
  | { readonly name: 'dev'; readonly app: string; readonly flags: DevFlags }
  | { readonly name: 'status'; readonly app: string; readonly json: boolean; readonly prefix: string }
  | { readonly name: 'tables'; readonly verb: TablesVerb; readonly app: string; readonly flags: TablesFlags }
  | {
      readonly name: 'dead-letters';
      readonly verb: DeadLettersVerb;
      readonly app: string;
      readonly flags: DeadLettersFlags;
    };

const OPTIONS = {
  run: { 'worker-id': { type: 'string' }, 'shutdown-deadline-ms': { type: 'string' }, prefix: { type: 'string' } },
  dev: { 'duration-ms': { type: 'string' } },
  status: { json: { type: 'boolean' }, prefix: { type: 'string' } },
  tables: {
    prefix: { type: 'string' },
    yes: { type: 'boolean' },
    json: { type: 'boolean' },
    'allow-stream-change': { type: 'boolean' },
    'include-sources': { type: 'boolean' },
  },
  'dead-letters': {
    pipeline: { type: 'string' },
    since: { type: 'string' },
    json: { type: 'boolean' },
    prefix: { type: 'string' },
  },
} as const;

const TABLE_VERBS: readonly TablesVerb[] = ['plan', 'create', 'list', 'describe', 'drop'];
const DEAD_LETTER_VERBS: readonly DeadLettersVerb[] = ['list', 'redrive'];

/**
 * Parses `tributary` arguments; throws a `cli.usage` TributaryError on anything it cannot accept.
 *
 * @example
 * ```ts
 * parseCommand(['dev', 'examples/shop.ts', '--duration-ms', '45000']);
 * // { name: 'dev', app: 'examples/shop.ts', flags: { durationMs: 45000 } }
 * ```
 */
export function parseCommand(argv: readonly string[]): Command {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') return { name: 'help' };
  if (name !== 'run' && name !== 'dev' && name !== 'status' && name !== 'tables' && name !== 'dead-letters')
    throw usage(`unknown command '${name}'`);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { ...OPTIONS[name], help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw usage(`${name}: ${(e as Error).message}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { name: 'help' };
  const v = values as Partial<Record<string, string | boolean>>;
  if (name === 'tables') {
    const [verb, app, ...extra] = positionals;
    if (!TABLE_VERBS.includes(verb as TablesVerb))
      throw usage(`tables: expected one of ${TABLE_VERBS.join('|')}, got '${verb ?? ''}'`);
    if (app === undefined || extra.length) throw usage('tables: expected one app file');
    return {
      name,
      verb: verb as TablesVerb,
      app,
      flags: {
        prefix: (v.prefix as string | undefined) ?? '',
        yes: v.yes === true,
        json: v.json === true,
        allowStreamChange: v['allow-stream-change'] === true,
        includeSources: v['include-sources'] === true,
      },
    };
  }
  if (name === 'dead-letters') {
    const [verb, app, ...extra] = positionals;
    if (!DEAD_LETTER_VERBS.includes(verb as DeadLettersVerb))
      throw usage(`dead-letters: expected one of ${DEAD_LETTER_VERBS.join('|')}, got '${verb ?? ''}'`);
    if (app === undefined || extra.length) throw usage('dead-letters: expected one app file');
    return {
      name,
      verb: verb as DeadLettersVerb,
      app,
      flags: {
        pipeline: v.pipeline as string | undefined,
        since: v.since as string | undefined,
        json: v.json === true,
        prefix: (v.prefix as string | undefined) ?? '',
      },
    };
  }
  if (positionals.length !== 1)
    throw usage(`${name}: expected one app file, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
  const app = positionals[0]!;
  switch (name) {
    case 'run':
      return {
        name,
        app,
        flags: {
          workerId: v['worker-id'] as string | undefined,
          shutdownDeadlineMs: positiveInt(v['shutdown-deadline-ms'], '--shutdown-deadline-ms'),
          prefix: v.prefix as string | undefined,
        },
      };
    case 'dev':
      return { name, app, flags: { durationMs: positiveInt(v['duration-ms'], '--duration-ms') } };
    case 'status':
      return { name, app, json: v.json === true, prefix: (v.prefix as string | undefined) ?? '' };
  }
}

/**
 * Runs the `tributary` command line and resolves with the process exit code.
 *
 * @example
 * ```ts
 * process.exitCode = await main(['status', 'examples/shop.ts', '--json']);
 * ```
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    const cmd = parseCommand(argv);
    if (cmd.name === 'help') {
      process.stdout.write(USAGE);
      return EXIT.ok;
    }
    const def = await loadApp(cmd.app);
    switch (cmd.name) {
      case 'run':
        return await runCommand(def, cmd.flags);
      case 'dev':
        return await devCommand(def, cmd.flags);
      case 'status':
        return await statusCommand(def, { json: cmd.json, prefix: cmd.prefix });
      case 'tables':
        return await tablesCommand(cmd.verb, def, cmd.flags);
      case 'dead-letters':
        return await deadLettersCommand(cmd.verb, def, cmd.flags);
    }
  } catch (e) {
    return reportError(e);
  }
}

/**
 * One line on stderr for a failure, and its exit code. Stacks are for whoever debugs tributary,
 * not for whoever runs it: they are printed only with `TRIBUTARY_LOG_LEVEL=debug`.
 */
function reportError(thrown: unknown): number {
  if (isTributaryError(thrown, 'cli.usage')) {
    process.stderr.write(`tributary: ${thrown.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const e = cliFailure(thrown);
  if (isTributaryError(e)) process.stderr.write(`tributary: ${e.code}: ${e.message}\n`);
  else if (e instanceof Error) process.stderr.write(`tributary: ${e.name}: ${e.message}\n`);
  else process.stderr.write(`tributary: ${String(e)}\n`);
  if (process.env.TRIBUTARY_LOG_LEVEL === 'debug') {
    const stacked = isTributaryError(e) && e.cause instanceof Error ? e.cause : e;
    if (stacked instanceof Error && stacked.stack) process.stderr.write(`${stacked.stack}\n`);
  }
  // A missing region is the command line's environment being incomplete: a usage error.
  return isTributaryError(e, 'config.noRegion') ? EXIT.usage : EXIT.failed;
}

function usage(message: string): TributaryError {
  return new TributaryError('cli.usage', message);
}

function positiveInt(v: string | boolean | undefined, flag: string): number | undefined {
  if (v === undefined || typeof v === 'boolean') return undefined;
  if (!/^\d+$/.test(v) || Number(v) <= 0)
    throw usage(`${flag} must be a positive whole number of milliseconds, got '${v}'`);
  return Number(v);
}

function isEntryPoint(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

// Also runnable directly: `tsx src/cli/main.ts dev examples/shop.ts`.
if (isEntryPoint()) void main(process.argv.slice(2)).then((code) => process.stdout.write('', () => process.exit(code)));
