#!/usr/bin/env node
// The `tributary` command. The CLI and the apps it loads are TypeScript, so tsx's loader is
// registered in this very process (resolved from this package's own dependencies, so it works
// from any directory) before src/cli/main.ts is imported. Staying in one process means signals
// reach the CLI directly and its exit code is the process's exit code: nothing to forward.
import process from 'node:process';
import { register as registerCjs } from 'tsx/cjs/api';
import { register as registerEsm } from 'tsx/esm/api';

// Both loaders, as `node --import tsx` would: an app.ts outside a `"type": "module"` package is CommonJS.
registerCjs();
registerEsm();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Exit explicitly (a forgotten socket must not keep a finished CLI alive), once stdout is flushed.
process.stdout.write('', () => process.exit(code));
