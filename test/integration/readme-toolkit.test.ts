import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createClients, destroyClients } from '../../src/runtime/clients.js';
import { deleteTable } from '../../src/testing/tables.js';
import { childEnv, readmeFiles, ROOT, run } from './user-project.js';

/** The README's "Toolkit" block, run as written (tributary resolved to this checkout's sources) against the emulators. */
describe("the README's toolkit section", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-readme-toolkit-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs as written and prints what it stored', async () => {
    const [block] = readmeFiles('Toolkit');
    expect(block?.path).toBe('toolkit.ts');
    // Its imports point at this checkout's sources; the rest is the README's text.
    const code = block!.code
      .replace("from 'tributary/testing'", `from ${JSON.stringify(join(ROOT, 'src/testing/index.ts'))}`)
      .replace("from 'tributary'", `from ${JSON.stringify(join(ROOT, 'src/index.ts'))}`);
    writeFileSync(join(dir, 'toolkit.ts'), code);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    const e = inject('endpoints');
    const clients = createClients({ dynamodbEndpoint: e.dynamodb, region: 'us-east-1' });
    try {
      for (const t of ['toolkit_albums', 'toolkit_atoms'])
        await deleteTable(clients.dynamodb, t).catch(() => undefined);
      const out = await run(process.execPath, ['--import', 'tsx', join(dir, 'toolkit.ts')], {
        cwd: ROOT,
        env: childEnv({
          TRIBUTARY_DYNAMODB_ENDPOINT: e.dynamodb,
          AWS_REGION: 'us-east-1',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        }),
        timeoutMs: 120_000,
      });
      expect(out.code, out.transcript).toBe(0);
      expect(out.stdout.trim()).toBe('1 Lisbon 2');
    } finally {
      destroyClients(clients);
    }
  });
});
