import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Helpers for tests that play a user's project: README code blocks as files, commands run in it. */

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A file of a README code block. */
export interface ReadmeFile {
  readonly path: string;
  readonly code: string;
}

/**
 * The `ts` code blocks of the README section under `## <heading>` whose first line names a file
 * (`// test/global-setup.ts`), in the README's order, read now: a test built on them runs what the
 * README says today. Blocks without such a line (fragments) are left out.
 */
export function readmeFiles(heading: string): ReadmeFile[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`README.md has no "## ${heading}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  const files: ReadmeFile[] = [];
  for (const block of section.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
    const code = block[1]!;
    const path = /^\/\/ ([\w./-]+\.ts)\n/.exec(code)?.[1];
    if (path) files.push({ path, code });
  }
  return files;
}

/**
 * The environment of a child that must not inherit this test run's: no Vitest worker state, no
 * endpoints, no settings of an outer `npm test`.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env))
    if (!/^(VITEST|TEST$|TRIBUTARY_|NODE_ENV$|NODE_OPTIONS$|FORCE_COLOR$|npm_)/.test(k)) env[k] = v;
  // Plain output, for assertions on it.
  return { ...env, NO_COLOR: '1', ...extra };
}

/** What a finished command printed. */
export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The command line and its output, for an assertion's message. */
  readonly transcript: string;
}

/**
 * Runs a command to its end and resolves with its output (never rejects on a non-zero exit). A
 * command still running after `timeoutMs` gets SIGTERM, then SIGKILL 15 s later, by its pid, and
 * its transcript says so.
 */
export function run(
  command: string,
  args: readonly string[],
  opts: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timedOut = false;
    let kill: NodeJS.Timeout | undefined;
    // SIGTERM first: a CLI or a Vitest run stops the emulators it started; SIGKILL if it does not end.
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    }, opts.timeoutMs ?? 180_000);
    child.on('error', (e) => (clearTimeout(timer), reject(e)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(kill);
      const line = `$ ${command} ${args.join(' ')}${timedOut ? ` (killed after ${opts.timeoutMs ?? 180_000} ms)` : ''}`;
      resolve({
        code,
        signal,
        stdout,
        stderr,
        transcript: `${line}\nexit ${code ?? signal}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
      });
    });
  });
}
