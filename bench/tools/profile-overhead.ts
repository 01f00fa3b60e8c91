import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { startDynamoLocal } from '../lib/emulators.js';
import { fmt, progress } from '../lib/report.js';
import { SCENARIOS, tributary } from '../overhead.js';

/**
 * Profiles only the tributary side of one overhead scenario (not the emulator's start, not the
 * baseline), one CPU profile per run:
 *
 *   npx tsx bench/tools/profile-overhead.ts [scenario index, default 0] [runs, default 3] [out dir, default /tmp]
 *   npx tsx bench/tools/profile-summary.ts /tmp/overhead-0-run1.cpuprofile
 */
const index = Number(process.argv[2] ?? 0);
const scenario = SCENARIOS[index]!;
const runs = Number(process.argv[3] ?? 3);
const dir = process.argv[4] ?? '/tmp';
const emu = await startDynamoLocal();
const session = new Session();
session.connect();
try {
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  for (let i = 1; i <= runs; i++) {
    await session.post('Profiler.start');
    const r = await tributary(emu.endpoints.dynamodb, scenario);
    const { profile } = await session.post('Profiler.stop');
    const file = `${dir}/overhead-${index}-run${i}.cpuprofile`;
    writeFileSync(file, JSON.stringify(profile));
    progress(`${scenario.label}: ${fmt(r.rps)} records/s, ${r.checkpoints} checkpoint writes -> ${file}`);
  }
} finally {
  session.disconnect();
  await emu.stop();
}
process.exit(0);
