#!/usr/bin/env node
// The `tributary` command. The apps it loads are TypeScript, so tsx's loader is registered in
// this very process (resolved from this package's own dependencies, so it works from any
// directory) before the CLI is imported. In a checkout of tributary the CLI runs from its
// TypeScript sources (src/), so an edit needs no build; an installed package ships dist/ only
// (see "files" in package.json) and runs the compiled CLI. Staying in one process means signals
// reach the CLI directly and its exit code is the process's exit code: nothing to forward.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';
import { register as registerCjs } from 'tsx/cjs/api';
import { register as registerEsm } from 'tsx/esm/api';

// Both loaders, as `node --import tsx` would: an app.ts outside a `"type": "module"` package is CommonJS.
registerCjs();
registerEsm();
const source = new URL('../src/cli/main.ts', import.meta.url);
const { main } = await import(existsSync(source) ? source.href : new URL('../dist/cli/main.js', import.meta.url).href);
const code = await main(process.argv.slice(2));
// Exit explicitly (a forgotten socket must not keep a finished CLI alive), once stdout is flushed.
process.stdout.write('', () => process.exit(code));
