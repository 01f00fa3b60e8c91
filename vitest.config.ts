import { defineConfig } from 'vitest/config';

/**
 * The exactly-once tests start several app processes, write tens of thousands of items and kill
 * workers on purpose: beside other files on two cores they starve each other (and those files)
 * into timeouts. They run after the others, one file at a time.
 */
const ALONE = [
  'test/integration/chaos.test.ts',
  'test/integration/backfill.test.ts',
  'test/integration/exactly-once.test.ts',
];

export default defineConfig({
  test: {
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
    projects: [
      {
        extends: true,
        test: { name: 'tests', include: ['test/**/*.test.ts'], exclude: ALONE, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'exactly-once',
          include: ALONE,
          sequence: { groupOrder: 1 },
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
