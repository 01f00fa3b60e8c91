// Replicating a users table through Kinesis: a bridge publishes the table's changes to a Kinesis
// stream in the format of "Kinesis Data Streams for DynamoDB" (which DynamoDB Local lacks), and a
// mirror applies them to two replica tables with last-writer-wins by change time, at a bounded
// write rate. Run it locally with `tributary dev examples/mirror.ts`.
import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { setTimeout as delay } from 'node:timers/promises';
import {
  app,
  dynamodbTable,
  getMirrored,
  kinesisBridge,
  kinesisDynamoChanges,
  kinesisStream,
  mirror,
  pipeline,
  visibleMirrorItem,
  type Clients,
  type TableSpec,
} from '../src/index.js';
import { scanAll } from '../src/testing/index.js';

// ---- Source, bridge, mirror --------------------------------------------------------------

type User = { userId: string; name: string; plan: 'free' | 'pro'; credits: number };

const users: TableSpec = {
  name: 'mirror_users',
  partitionKey: { name: 'userId', type: 'S' },
  stream: 'NEW_AND_OLD_IMAGES',
};
const CHANGES = 'mirror_users_changes';

/** Two replicas with the source's key; each takes at most 40 writes a second. */
const replicas = mirror<User>({
  tables: ['mirror_users_eu', 'mirror_users_us'],
  partitionKey: { name: 'userId', type: 'S' },
  rateLimit: 40,
});

const publish = pipeline('publish-user-changes')
  .from(dynamodbTable<User>('mirror_users'))
  .to(kinesisBridge<User>(CHANGES));
const replicate = pipeline('replicate-users')
  .from(kinesisStream(CHANGES, { decode: kinesisDynamoChanges<User>() }))
  .to(replicas);

// ---- Dev loop: generated traffic and a report ---------------------------------------------

type DevContext = { clients: Clients; tableName: (logical: string) => string };

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

/** Every ~60 ms: sign a user up, change a plan, spend credits, or delete a user (and sometimes sign them up again). */
async function traffic({ clients, tableName, signal }: DevContext & { signal: AbortSignal }): Promise<void> {
  const table = tableName('mirror_users');
  const live = new Map<string, User>();
  const save = (u: User) => {
    live.set(u.userId, u);
    return clients.dynamodb.send(new PutItemCommand({ TableName: table, Item: marshall(u) }));
  };
  for (let n = 1; !signal.aborted; n++) {
    const existing = live.size > 0 ? pick([...live.values()]) : undefined;
    const roll = Math.random();
    if (!existing || roll < 0.35)
      await save({ userId: `u${n % 60}`, name: `User ${n % 60}`, plan: 'free', credits: 100 });
    else if (roll < 0.55) await save({ ...existing, plan: existing.plan === 'free' ? 'pro' : 'free' });
    else if (roll < 0.85) await save({ ...existing, credits: existing.credits - 1 });
    else {
      live.delete(existing.userId);
      await clients.dynamodb.send(
        new DeleteItemCommand({ TableName: table, Key: marshall({ userId: existing.userId }) }),
      );
    }
    await delay(60, undefined, { signal }).catch(() => undefined);
  }
}

const fingerprint = (items: readonly Record<string, unknown>[]) =>
  items
    .map((i) => JSON.stringify(i, ['userId', 'name', 'plan', 'credits']))
    .sort()
    .join('\n');

/** Source and replica sizes, whether each replica equals the source, the mirror's write counts, a sample user, dead letters. */
async function report({ clients, tableName }: DevContext): Promise<string> {
  const source = await scanAll(clients.dynamodb, tableName('mirror_users'));
  const lines = [`rows: mirror_users ${source.length}`];
  for (const t of replicas.mirrorTables) {
    const raw = await scanAll(clients.dynamodb, tableName(t));
    const live = raw.map((i) => visibleMirrorItem(i)).filter((i): i is Record<string, unknown> => i !== undefined);
    lines.push(
      `${t}: ${live.length} live, ${raw.length - live.length} tombstones; matches source: ${fingerprint(live) === fingerprint(source) ? 'yes' : 'no'}`,
    );
  }
  const s = replicas.stats;
  lines.push(`mirror writes: ${s.applied} applied, ${s.stale} refused as stale or duplicate`);
  const sample = source[0] as User | undefined;
  if (sample) {
    const replica = await getMirrored(replicas, clients, { userId: sample.userId }, { tableName });
    lines.push(
      `sample ${sample.userId}: source ${sample.plan}/${sample.credits}, replica ${replica ? `${replica.plan}/${replica.credits}` : 'not there yet'}`,
    );
  }
  const letters = await scanAll(clients.dynamodb, tableName(userMirror.deadLetters.tableName));
  lines.push(`dead letters: ${letters.length}`);
  return lines.join('\n');
}

const userMirror = app('user-mirror', [publish, replicate], {
  tables: [users],
  dev: { streams: [{ name: CHANGES, shards: 2 }], traffic, report },
});

export default userMirror;
