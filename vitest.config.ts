import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // The SDK warns on every process that Node 20 support ends in 2027; the lockfile pins versions that run here.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // Sized for a loaded two-core machine (load average above 10 while other work runs): tests wait on
    // conditions, so an idle machine finishes them in seconds all the same.
    testTimeout: 240_000,
    hookTimeout: 240_000,
    // Two cores: integration files share the emulators; run files one or two at a time.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
