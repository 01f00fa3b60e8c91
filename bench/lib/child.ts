import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs a benchmark case in a fresh Node process (tsx loader), so that its RSS is its alone, and
 * resolves with the JSON object its last line of stdout holds. A child that prints no such line
 * rejects with the tail of its stderr.
 *
 * @example
 * ```ts
 * const r = await runJsonChild<Result>(new URL('../memory-child.ts', import.meta.url), { BENCH_MEMORY_RECORDS: '20000' }, 'memory child (20,000 records)');
 * ```
 */
export function runJsonChild<T>(
  script: URL,
  env: Readonly<Record<string, string>>,
  what: string,
  nodeFlags: readonly string[] = [],
): Promise<T> {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', fileURLToPath(script)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${what} exited with ${code}: ${err.slice(-2000)}`));
      }
    });
  });
}
