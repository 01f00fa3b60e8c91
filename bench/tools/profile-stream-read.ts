import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { destroyClients } from '../../src/runtime/clients.js';
import { createTable } from '../../src/testing/tables.js';
import { benchClients, fresh, startDynamoLocal } from '../lib/emulators.js';
import { fmt, progress } from '../lib/report.js';
import { fill, rawDrain, tributary } from '../stream-read.js';

/**
 * Fills a stream once, then alternates the raw drain and the tributary drain, each under the CPU
 * profiler, and prints records/s with the CPU time this process spent:
 *
 *   npx tsx bench/tools/profile-stream-read.ts [rounds, default 2] [out dir, default /tmp]
 *   npx tsx bench/tools/profile-summary.ts /tmp/stream-read-tributary-1.cpuprofile
 */
const rounds = Number(process.argv[2] ?? 2);
const dir = process.argv[3] ?? '/tmp';
const emu = await startDynamoLocal();
const clients = benchClients(emu.endpoints.dynamodb);
const session = new Session();
session.connect();
try {
  const table = fresh('bench_stream_src');
  await createTable(clients.dynamodb, {
    name: table,
    partitionKey: { name: 'id', type: 'S' },
    stream: 'NEW_AND_OLD_IMAGES',
  });
  await fill(clients, table);
  const arn = (await clients.dynamodb.send(new DescribeTableCommand({ TableName: table }))).Table!.LatestStreamArn!;
  await rawDrain(clients, arn);
  await session.post('Profiler.enable');
  for (let i = 1; i <= rounds; i++) {
    for (const [name, drain] of [
      ['raw', () => rawDrain(clients, arn)],
      ['tributary', () => tributary(emu.endpoints.dynamodb, table)],
    ] as const) {
      const cpu0 = process.cpuUsage();
      await session.post('Profiler.start');
      const r = await drain();
      const { profile } = await session.post('Profiler.stop');
      const cpu = process.cpuUsage(cpu0);
      const file = `${dir}/stream-read-${name}-${i}.cpuprofile`;
      writeFileSync(file, JSON.stringify(profile));
      progress(`${name}: ${fmt(r.rps)} records/s, node CPU ${fmt((cpu.user + cpu.system) / 1e6, 2)} s -> ${file}`);
    }
  }
} finally {
  session.disconnect();
  destroyClients(clients);
  await emu.stop();
}
process.exit(0);
