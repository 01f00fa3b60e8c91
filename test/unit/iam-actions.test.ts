import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IAM_ACTIONS } from '../../src/core/iam.js';

const root = join(import.meta.dirname, '../..');

/** Every `.ts` file under a folder. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the IAM action list', () => {
  it('names every AWS operation the runtime code sends (a new command fails here until its action is listed)', () => {
    // Not the runner's: the CLI's other commands, the test helpers, table management (`tributary tables`,
    // `maintainRotation`) and redrive (`tributary dead-letters`) run under their own permissions.
    const elsewhere = [
      'src/cli/',
      'src/testing/',
      'src/views/tables/',
      'src/views/event-table/maintain.ts',
      'src/sinks/dead-letter-entries.ts',
      'src/runtime/redrive.ts',
    ];
    const ops = new Map<string, string>();
    for (const f of files(join(root, 'src'))) {
      const rel = relative(root, f);
      if (elsewhere.some((e) => rel.startsWith(e))) continue;
      const code = readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l))
        .join('\n');
      for (const m of code.matchAll(/new (\w+)Command\(|paginate(\w+)\(|waitUntil(\w+)\(/g)) {
        const op = m[1] ?? m[2] ?? { TableExists: 'DescribeTable', StreamExists: 'DescribeStream' }[m[3]!] ?? m[3]!;
        ops.set(op, rel);
      }
    }
    expect(ops.size).toBeGreaterThan(10);
    const listed = new Set(IAM_ACTIONS.map((a) => a.split(':')[1]));
    // TransactWriteItems is no IAM action: its items are authorized as PutItem, UpdateItem, DeleteItem.
    const missing = [...ops].filter(([op]) => op !== 'TransactWriteItems' && !listed.has(op));
    expect(missing).toEqual([]);
  });
});
