import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/**
 * The system's Chromium (Debian's `chromium` package), installed with apt-get when it is missing
 * and this process may (root): `npm test` on a fresh machine needs nothing else. `CHROMIUM_PATH`
 * names another executable.
 */
export function ensureChromium(): string {
  const found = () => [process.env.CHROMIUM_PATH, ...CANDIDATES].find((p): p is string => !!p && existsSync(p));
  const have = found();
  if (have) return have;
  if (process.getuid?.() !== 0)
    throw new Error(
      "the status page test needs Chromium: install Debian's package (sudo apt-get install -y chromium) or set CHROMIUM_PATH",
    );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: 'ignore', env });
  const installed = found();
  if (!installed)
    throw new Error('apt-get installed chromium, but no executable was found at ' + CANDIDATES.join(', '));
  return installed;
}
