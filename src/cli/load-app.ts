import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TributaryError } from '../core/errors.js';
import type { AppDef } from '../core/pipeline.js';

/**
 * Loads an app module and returns its default export, which must be an `app(...)` definition.
 * TypeScript files load through tsx, which `bin/tributary.js` registers before the CLI starts.
 * A missing file is a usage error (`cli.usage`); a module that fails to load or exports no app
 * is `config.invalid`, with the module's own error as the cause.
 *
 * @example
 * ```ts
 * const shop = await loadApp('examples/shop.ts');
 * console.log(shop.name, shop.pipelines.map((p) => p.name));
 * ```
 */
export async function loadApp(file: string, cwd: string = process.cwd()): Promise<AppDef> {
  const path = resolve(cwd, file);
  if (!existsSync(path))
    throw new TributaryError('cli.usage', `app file not found: ${file}`, { details: { file: path } });
  let mod: unknown;
  try {
    mod = await import(pathToFileURL(path).href);
  } catch (e) {
    throw new TributaryError('config.invalid', `could not load ${file}: ${(e as Error).message ?? String(e)}`, {
      details: { file: path },
      cause: e,
    });
  }
  const def = (mod as { default?: unknown }).default;
  if (!isAppDef(def)) {
    throw new TributaryError(
      'config.invalid',
      `${file} must \`export default app(name, [pipelines])\`; its default export is ${describe(def)}`,
      { details: { file: path } },
    );
  }
  return def;
}

function isAppDef(v: unknown): v is AppDef {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Partial<Record<keyof AppDef, unknown>>;
  return (
    typeof d.name === 'string' &&
    Array.isArray(d.pipelines) &&
    typeof d.leaseTable === 'string' &&
    typeof d.deadLetters === 'object' &&
    d.deadLetters !== null
  );
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (typeof v !== 'object') return `a ${typeof v}`;
  const keys = Object.keys(v);
  return keys.length ? `an object with keys ${keys.slice(0, 5).join(', ')}` : 'an empty object';
}
