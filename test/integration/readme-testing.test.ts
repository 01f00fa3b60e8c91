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

  /**
   * A Vitest config of the harness: the README's own (when it exists yet), with 'tributary' aliased
   * to this checkout's sources (vitest, the AWS SDK, zod... come from its node_modules, linked).
   */
  const writeHarnessConfig = (readme: string | undefined) =>
    writeFileSync(
      join(project, 'vitest.harness.config.ts'),
      [
        `import { mergeConfig } from 'vitest/config';`,
        readme ? `import readme from '${readme}';` : `const readme = {};`,
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

  it("names its files in order: the driver's test, then a Vitest config, a global setup and a test on the emulators", () => {
    expect(readmeFiles('Testing your own app').map((f) => f.path)).toEqual([
      'test/shop.driver.test.ts',
      'vitest.config.ts',
      'test/global-setup.ts',
      'test/shop.test.ts',
    ]);
  });

  const write = (f: { path: string; code: string }) => {
    mkdirSync(dirname(join(project, f.path)), { recursive: true });
    writeFileSync(join(project, f.path), f.code);
  };

  it('passes as written, in a project of its own: the driver test with no Java and no emulator, then all', async () => {
    const [driverTest, ...emulatorFiles] = readmeFiles('Testing your own app');
    write(driverTest!);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    // The app the README imports as '../examples/shop.js' is this repository's example.
    mkdirSync(join(project, 'examples'));
    writeFileSync(
      join(project, 'examples/shop.ts'),
      `export { default } from ${JSON.stringify(join(ROOT, 'examples/shop.ts'))};\n`,
    );
    // vitest, the AWS SDK, zod... as this checkout has them; 'tributary' is aliased to its sources.
    symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'), 'dir');
    writeHarnessConfig(undefined);

    // The driver's test alone: no config yet (so no global setup), and a PATH with node and nothing else.
    const bin = join(project, '.bin-node-only');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const bare = childEnv({ PATH: bin, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
    const java = await run('/bin/sh', ['-c', 'command -v java || echo "no java"'], { cwd: project, env: bare });
    expect(java.stdout.trim()).toBe('no java');
    const alone = await run(
      process.execPath,
      [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'vitest.harness.config.ts'],
      { cwd: project, env: bare, timeoutMs: 180_000 },
    );
    expect(alone.code, alone.transcript).toBe(0);
    expect(alone.stdout, alone.transcript).toMatch(/Tests +1 passed \(1\)/);
    expect(alone.stdout).toContain('indexes orders by customer through a throttled table');

    // Then the emulator level beside it. The emulators this run already has: the README's setup
    // uses TRIBUTARY_*_ENDPOINT where set.
    for (const f of emulatorFiles) write(f);
    writeHarnessConfig('./vitest.config.ts');
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
    expect(vitest.stdout, vitest.transcript).toMatch(/Tests +2 passed \(2\)/);
    expect(vitest.stdout).toContain('indexes orders by customer');
  });
});
