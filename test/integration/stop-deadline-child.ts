// A process that embeds a Runner as an application would: started by stop-deadline.test.ts, which
// kills DynamoDB Local under it and then sends SIGTERM. It must end by itself: nothing here exits.
import { map } from 'rxjs';
import { app, pipeline, put, Runner, tableWriter } from '../../src/index.js';
import { createClients, destroyClients } from '../../src/runtime/clients.js';
import { memorySource } from '../../src/testing/memory-source.js';
import { createTable } from '../../src/testing/tables.js';

const table = process.env.STOP_TABLE!;
const setup = createClients();
await createTable(setup.dynamodb, { name: table, partitionKey: { name: 'id', type: 'S' } });
destroyClients(setup);

// More records than the test lets it write: writes are in flight whenever DynamoDB goes.
const values = { count: 10_000_000, at: (i: number) => ({ id: `item-${i}` }) };
const def = app(process.env.STOP_APP!, [
  pipeline('load')
    .from(memorySource('items', [{ shardId: 's-0', values }], { batchSize: 25 }))
    .pipe(map((r) => put(r.value)))
    .to(tableWriter(table)),
]);
// Clients of the application's own, as shared clients are: the runner must not close them, only stop using them.
const shared = process.env.STOP_CLIENTS === 'shared' ? createClients() : undefined;
const runner = new Runner(def, { clients: shared, shutdownDeadlineMs: Number(process.env.STOP_DEADLINE_MS) });
process.once('SIGTERM', () => {
  void runner.stop().then(({ error }) => {
    if (shared) destroyClients(shared);
    process.stdout.write(`stopped ${(error as { code?: string } | undefined)?.code ?? 'cleanly'}\n`);
  });
});
await runner.start();
while ((await runner.metrics.sum('tributary_records_applied_total')) === 0) await new Promise((r) => setTimeout(r, 50));
process.stdout.write('applying\n');
