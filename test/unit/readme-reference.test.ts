import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../src/observe/metric-defs.js';
import { SETTINGS } from '../../src/runtime/options.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('the README reference', () => {
  it('lists every metric, with its type and help text', () => {
    for (const [name, def] of Object.entries(METRICS)) expect(README, name).toContain(`| \`${name}\` | ${def.type} |`);
  });

  it('lists every runtime setting with its environment variable and default', () => {
    for (const [name, def] of Object.entries(SETTINGS)) {
      const row = README.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
      expect(row, name).toBeDefined();
      expect(row).toContain(def.env);
      if (def.default !== undefined) expect(row).toContain(`| ${def.default} |`);
    }
  });
});
