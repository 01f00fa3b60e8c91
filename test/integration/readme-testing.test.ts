import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { childEnv, readmeFiles, ROOT, run } from './user-project.js';

/**
 * The README's "Testing your own app" files, run as a user's project would run them: written into
 * a folder of their own, `tributary` resolved to this checkout's sources (no build needed), and
 * Vitest started there in a child process.
 */
describe("the README's testing section", () => {
  const project = mkdtempSync(join(tmpdir(), 'tributary-readme-'));
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('names its files in order: a Vitest config, a global setup and a test', () => {
    expect(readmeFiles('Testing your own app').map((f) => f.path)).toEqual([
      'vitest.config.ts',
      'test/global-setup.ts',
      'test/shop.test.ts',
    ]);
  });

  it('passes as written, in a project of its own', async () => {
    for (const f of readmeFiles('Testing your own app')) {
      mkdirSync(dirname(join(project, f.path)), { recursive: true });
      writeFileSync(join(project, f.path), f.code);
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    // The app the README imports as '../examples/shop.js' is this repository's example.
    mkdirSync(join(project, 'examples'));
    writeFileSync(
      join(project, 'examples/shop.ts'),
      `export { default } from ${JSON.stringify(join(ROOT, 'examples/shop.ts'))};\n`,
    );
    // vitest, the AWS SDK, zod... as this checkout has them; 'tributary' is aliased to its sources.
    symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'), 'dir');
    writeFileSync(
      join(project, 'vitest.harness.config.ts'),
      [
        `import { mergeConfig } from 'vitest/config';`,
        `import readme from './vitest.config.ts';`,
        `export default mergeConfig(readme, {`,
        `  resolve: {`,
        `    alias: [`,
        `      { find: /^tributary\\/testing$/, replacement: ${JSON.stringify(join(ROOT, 'src/testing/index.ts'))} },`,
        `      { find: /^tributary$/, replacement: ${JSON.stringify(join(ROOT, 'src/index.ts'))} },`,
        `    ],`,
        `  },`,
        `});`,
      ].join('\n'),
    );

    // The emulators this run already has: the README's setup uses TRIBUTARY_*_ENDPOINT where set.
    const endpoints = inject('endpoints');
    const vitest = await run(
      process.execPath,
      [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'vitest.harness.config.ts'],
      {
        cwd: project,
        env: childEnv({
          TRIBUTARY_DYNAMODB_ENDPOINT: endpoints.dynamodb,
          TRIBUTARY_KINESIS_ENDPOINT: endpoints.kinesis,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        }),
        timeoutMs: 180_000,
      },
    );
    expect(vitest.code, vitest.transcript).toBe(0);
    expect(vitest.stdout, vitest.transcript).toMatch(/Tests +1 passed \(1\)/);
    expect(vitest.stdout).toContain('indexes orders by customer');
  });
});
