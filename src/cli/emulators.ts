import type { Emulators } from '../testing/emulators.js';
import { EmulatorGuard } from './emulator-guard.js';
import { onStopSignals } from './signals.js';

/** Flags of `tributary emulators`. */
export interface EmulatorsFlags {
  /** Print the endpoints, pids and variables as one JSON line on stdout (other lines go to stderr). */
  readonly json?: boolean;
}

/** What `tributary emulators --json` prints once both emulators answer. */
export interface EmulatorsReport {
  readonly dynamodb: string;
  readonly kinesis: string;
  /** Pids of the emulator processes; Ctrl-C/SIGTERM stops them. */
  readonly pids: readonly number[];
  /** The variables that point `tributary run`, `status`, `tables` and `startEmulators` at them. */
  readonly env: { readonly TRIBUTARY_DYNAMODB_ENDPOINT: string; readonly TRIBUTARY_KINESIS_ENDPOINT: string };
}

/**
 * `tributary emulators`: starts DynamoDB Local and kinesis-mock on free ports, prints their
 * endpoints and the variables to export, and keeps them up until SIGINT/SIGTERM, then stops them
 * by their handle (a second signal kills them at once and exits with 130). Endpoints set in the
 * environment are ignored: this command always starts both. Resolves with the exit code, 0 after
 * a signal; a failed start rejects (`testing.emulator`, `testing.emulatorMissing`).
 *
 * @example
 * ```ts
 * process.exitCode = await emulatorsCommand({ json: true });
 * // {"dynamodb":"http://127.0.0.1:41203","kinesis":"http://127.0.0.1:41207","pids":[812,813],"env":{...}}
 * ```
 */
export async function emulatorsCommand(flags: EmulatorsFlags = {}): Promise<number> {
  const out = (line: string) => void process.stdout.write(line + '\n');
  // With --json, stdout holds the one JSON line a script reads; everything else goes to stderr.
  const note = flags.json ? (line: string) => void process.stderr.write(line + '\n') : out;
  const guard = new EmulatorGuard('tributary emulators');
  const stop = new AbortController();
  const disposeSignals = onStopSignals(
    (signal) => {
      note(`${signal}: stopping the emulators (again to kill them at once)`);
      stop.abort();
    },
    () => guard.killNow(),
  );
  try {
    note('starting DynamoDB Local and kinesis-mock...');
    const emu = await guard.start({ useEnvironment: false });
    if (!stop.signal.aborted) {
      const report = reportOf(emu);
      if (flags.json) out(JSON.stringify(report));
      else for (const line of describe(report)) out(line);
      await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    return 0;
  } finally {
    await guard.stop();
    guard.dispose();
    disposeSignals();
    note('emulators stopped');
  }
}

function reportOf(emu: Emulators): EmulatorsReport {
  const { dynamodb, kinesis } = emu.endpoints;
  return {
    dynamodb,
    kinesis,
    pids: emu.pids,
    env: { TRIBUTARY_DYNAMODB_ENDPOINT: dynamodb, TRIBUTARY_KINESIS_ENDPOINT: kinesis },
  };
}

function describe(r: EmulatorsReport): string[] {
  return [
    `DynamoDB Local (with Streams)  ${r.dynamodb}`,
    `kinesis-mock                   ${r.kinesis}`,
    `pids                           ${r.pids.join(' ')}`,
    '',
    'Point tributary (run, status, tables, dead-letters, startEmulators) at them:',
    ...Object.entries(r.env).map(([k, v]) => `export ${k}=${v}`),
    '',
    'Ctrl-C stops them.',
  ];
}
