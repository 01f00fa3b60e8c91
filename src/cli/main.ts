import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isTributaryError, TributaryError } from '../core/errors.js';
import { deadLettersCommand, type DeadLettersFlags, type DeadLettersVerb } from './dead-letters.js';
import { devCommand, type DevFlags } from './dev.js';
import { emulatorsCommand } from './emulators.js';
import { cliFailure } from './failure.js';
import { iamCommand, iamFlags, type IamFlags } from './iam.js';
import { loadApp } from './load-app.js';
import { runCommand, type RunFlags } from './run.js';
import { port, runSettings, settingsHelp } from './settings-flags.js';
import { statusCommand } from './status.js';
import { tablesCommand, type TablesFlags, type TablesVerb } from './tables.js';

/** Exit codes of the `tributary` command (a second SIGINT/SIGTERM exits with 130). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export const USAGE = `Usage: tributary <command> <app.ts> [options]

Commands:
  run <app.ts>      Run the app against AWS (or the endpoints in the environment) until SIGTERM/SIGINT
      --worker-id <id>             this worker's identity in the lease table
      --shutdown-deadline-ms <n>   time a graceful stop may take (default 30000)
      --port <n>                   HTTP port of /livez /readyz /metrics /status.json and the status
                                   page at / (default 9400; 0 turns the server off)
      --host <addr>                address the HTTP server listens on (default 0.0.0.0)
      --lease-duration-ms <n>      a lease not renewed for this long is taken over (default 10000)
      --checkpoint-interval-ms <n> least time between two checkpoints of a shard (default 1000)
      --max-batches-in-flight <n>  batches of one shard in flight at once (default 4)
      --ready-outage-ms <n>        /readyz fails once an outage lasts longer (default 60000)
      --progress-log-ms <n>        how often a progress line is logged; 0 off (default 30000)
      --capacity <json>            capacity budgets by logical table name (see the README)
  dev <app.ts>      Start local emulators, create the app's dev tables and streams, run the app
                    with its dev traffic, and print progress and its dev report
      --duration-ms <n>            stop by itself after n ms (default: run until Ctrl-C)
      --port <n>                   HTTP port of the status page and endpoints (default 9400, a free
                                   one when it is taken; 0 turns the server off)
  status <app.ts>   Print each shard's owner, checkpoint and lag from the app's lease table
      --json                       print JSON instead of a table
  iam <app.ts>      Print the least-privilege IAM policy (JSON) of the app as run runs it: the
                    actions it calls on each of its tables and streams, leases and dead letters included
      --prefix <env_>              environment prefix of the app's tables, as given to run
      --region <region>            region of the ARNs (default AWS_REGION; '*' for any region)
      --account <id>               account id of the ARNs (default '*': any account)
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
  emulators         Start DynamoDB Local and kinesis-mock on free ports (no app file), print their
                    endpoints and the TRIBUTARY_*_ENDPOINT variables to export, and stop them
                    at Ctrl-C/SIGTERM
      --json                       print endpoints, pids and variables as one JSON line

  run and status also take --prefix <env_>: tables (leases and dead letters included) are prefixed.

Environment: AWS_REGION (required unless an endpoint is overridden), TRIBUTARY_DYNAMODB_ENDPOINT,
  TRIBUTARY_KINESIS_ENDPOINT, TRIBUTARY_LOG_LEVEL (debug also prints stacks of errors)
Exit codes: 0 done, 1 failed, 2 usage error (missing AWS_REGION included), 130 forced by a second signal

${settingsHelp()}
`;

/** A parsed command line. */
export type Command =
  | { readonly name: 'help' }
  | { readonly name: 'run'; readonly app: string; readonly flags: RunFlags }
  | { readonly name: 'dev'; readonly app: string; readonly flags: DevFlags }
  | { readonly name: 'status'; readonly app: string; readonly json: boolean; readonly prefix: string }
  | { readonly name: 'iam'; readonly app: string; readonly flags: IamFlags }
  | { readonly name: 'emulators'; readonly json: boolean }
  | { readonly name: 'tables'; readonly verb: TablesVerb; readonly app: string; readonly flags: TablesFlags }
  | {
      readonly name: 'dead-letters';
      readonly verb: DeadLettersVerb;
      readonly app: string;
      readonly flags: DeadLettersFlags;
    };

const OPTIONS = {
  run: {
    'worker-id': { type: 'string' },
    'shutdown-deadline-ms': { type: 'string' },
    prefix: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'lease-duration-ms': { type: 'string' },
    'checkpoint-interval-ms': { type: 'string' },
    'max-batches-in-flight': { type: 'string' },
    'ready-outage-ms': { type: 'string' },
    'progress-log-ms': { type: 'string' },
    capacity: { type: 'string' },
  },
  dev: { 'duration-ms': { type: 'string' }, port: { type: 'string' } },
  status: { json: { type: 'boolean' }, prefix: { type: 'string' } },
  iam: { prefix: { type: 'string' }, region: { type: 'string' }, account: { type: 'string' } },
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
  emulators: { json: { type: 'boolean' } },
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
  if (
    name !== 'run' &&
    name !== 'dev' &&
    name !== 'status' &&
    name !== 'iam' &&
    name !== 'tables' &&
    name !== 'dead-letters' &&
    name !== 'emulators'
  )
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
  if (name === 'emulators') {
    if (positionals.length) throw usage(`emulators: takes no app file, got ${positionals.join(' ')}`);
    return { name, json: v.json === true };
  }
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
          settings: runSettings(v),
        },
      };
    case 'dev':
      return {
        name,
        app,
        flags: { durationMs: positiveInt(v['duration-ms'], '--duration-ms'), port: port(v.port) },
      };
    case 'status':
      return { name, app, json: v.json === true, prefix: (v.prefix as string | undefined) ?? '' };
    case 'iam':
      return { name, app, flags: iamFlags(v) };
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
    if (cmd.name === 'emulators') return await emulatorsCommand({ json: cmd.json });
    const def = await loadApp(cmd.app);
    switch (cmd.name) {
      case 'run':
        return await runCommand(def, cmd.flags);
      case 'dev':
        return await devCommand(def, cmd.flags);
      case 'status':
        return await statusCommand(def, { json: cmd.json, prefix: cmd.prefix });
      case 'iam':
        return await iamCommand(def, cmd.flags);
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
