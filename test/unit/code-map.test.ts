import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const section = (() => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Code map\n');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
})();

function folders(dir: string): string[] {
  return readdirSync(join(root, dir))
    .filter((n) => statSync(join(root, dir, n)).isDirectory())
    .flatMap((n) => [`${dir}/${n}/`, ...folders(`${dir}/${n}`)]);
}

describe("the README's code map", () => {
  it('has one line for every folder under src/, and names no folder that is gone', () => {
    expect(section.length).toBeGreaterThan(100);
    const listed = [...section.matchAll(/^\| `(src\/[^`]*\/)` \|/gm)].map((m) => m[1]!);
    expect(listed.sort()).toEqual(folders('src').sort());
  });

  it('names only files that exist', () => {
    const files = [...section.matchAll(/`(src\/[^`]+\.ts)`/g)].map((m) => m[1]!);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect(existsSync(join(root, f)), f).toBe(true);
  });
});
