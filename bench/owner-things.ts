import { PutItemCommand, QueryCommand, type DynamoDBClient, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { destroyClients } from '../src/runtime/clients.js';
import { toolkit } from '../src/runtime/toolkit.js';
import { silentLogger } from '../src/observe/log.js';
import { createTable } from '../src/testing/tables.js';
import { ownerThings } from '../src/toolkit/owner-things.js';
import { benchClients, fresh, startDynamoLocal } from './lib/emulators.js';
import { fmt, progress, type Benchmark, type BenchResult, type ResultRow } from './lib/report.js';

const OWNERS = 10;
const THINGS = 10;
const SUBTHINGS = 20;
/** A subthing's payload, about 300 bytes: a photo's metadata. */
const PAYLOAD = 'x'.repeat(300);

/** Write units of one put, GSIs included, as DynamoDB reports them. */
async function putUnits(ddb: DynamoDBClient, table: string, item: Record<string, unknown>): Promise<number> {
  const out = await ddb.send(
    new PutItemCommand({ TableName: table, Item: marshall(item), ReturnConsumedCapacity: 'INDEXES' }),
  );
  // The total: the table's units and its indexes'.
  return out.ConsumedCapacity?.CapacityUnits ?? 0;
}

/** Items read (ScannedCount) and read units of a whole Query, every page. */
async function queryCost(
  ddb: DynamoDBClient,
  input: QueryCommandInput,
): Promise<{ items: number; rcu: number; returned: number }> {
  let [items, rcu, returned] = [0, 0, 0];
  let start: QueryCommandInput['ExclusiveStartKey'];
  do {
    const out = await ddb.send(
      new QueryCommand({ ...input, ExclusiveStartKey: start, ReturnConsumedCapacity: 'INDEXES' }),
    );
    items += out.ScannedCount ?? 0;
    returned += out.Count ?? 0;
    rcu += out.ConsumedCapacity?.CapacityUnits ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return { items, rcu, returned };
}

/**
 * An owner's things and their subthings (10 owners x 10 albums x 20 photos): `ownerThings` in one
 * table against the usual two tables (`things` keyed by thing id with a GSI on the owner, and
 * `subthings` keyed by thing and subthing id). Write units per write and items read per listing,
 * as DynamoDB Local reports them (ReturnConsumedCapacity INDEXES, ScannedCount). The single table
 * is written by `ownerThings` itself; its listing is measured with the Query it issues.
 */
export const ownerThingsBench: Benchmark = {
  name: 'owner-things',
  title: 'owner→things in one table (ownerThings) against two tables and a GSI: write units and items read',
  async run(): Promise<BenchResult> {
    const emu = await startDynamoLocal();
    const clients = benchClients(emu.endpoints.dynamodb);
    const tk = toolkit(clients, { log: silentLogger });
    try {
      const single = fresh('ot_single');
      const [things, subthings] = [fresh('ot_things'), fresh('ot_subthings')];
      const albums = ownerThings<{ title: string }, { meta: string }>({
        table: single,
        owner: 'user',
        thing: 'album',
        subthing: 'photo',
      });
      await createTable(clients.dynamodb, albums.tables()[0]!);
      await createTable(clients.dynamodb, {
        name: things,
        partitionKey: { name: 'thingId', type: 'S' },
        globalSecondaryIndexes: [
          { name: 'by_owner', partitionKey: { name: 'ownerId', type: 'S' }, sortKey: { name: 'thingId', type: 'S' } },
        ],
      });
      await createTable(clients.dynamodb, {
        name: subthings,
        partitionKey: { name: 'thingId', type: 'S' },
        sortKey: { name: 'subthingId', type: 'S' },
      });
      progress(`writing ${fmt(OWNERS * THINGS * (SUBTHINGS + 1))} items in each layout`);
      let [twoThingWcu, twoSubWcu] = [0, 0];
      for (let o = 0; o < OWNERS; o++)
        for (let t = 0; t < THINGS; t++) {
          const thingId = `u${o}-a${t}`;
          await albums.putThing(tk, `u${o}`, `a${t}`, { title: `album ${t}` });
          twoThingWcu += await putUnits(clients.dynamodb, things, { thingId, ownerId: `u${o}`, title: `album ${t}` });
          for (let s = 0; s < SUBTHINGS; s++) {
            await albums.putSubthing(tk, `u${o}`, `a${t}`, `p${s}`, { meta: PAYLOAD });
            twoSubWcu += await putUnits(clients.dynamodb, subthings, { thingId, subthingId: `p${s}`, meta: PAYLOAD });
          }
        }
      // The single table's writes, measured as the same items put with ReturnConsumedCapacity.
      const oneThing = await putUnits(clients.dynamodb, single, { pk: 'u0', sk: 'album#a0', title: 'album 0' });
      const oneSub = await putUnits(clients.dynamodb, single, { pk: 'u0', sk: 'album#a0#photo#p0', meta: PAYLOAD });

      const listSingle = await queryCost(clients.dynamodb, {
        TableName: single,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: marshall({ ':pk': 'u0', ':p': 'album#' }),
        ConsistentRead: true,
      });
      const listed = await albums.listThings(tk, 'u0');
      const listTwo = await queryCost(clients.dynamodb, {
        TableName: things,
        IndexName: 'by_owner',
        KeyConditionExpression: 'ownerId = :o',
        ExpressionAttributeValues: marshall({ ':o': 'u0' }),
      });
      const subsSingle = await queryCost(clients.dynamodb, {
        TableName: single,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: marshall({ ':pk': 'u0', ':p': 'album#a0#photo#' }),
        ConsistentRead: true,
      });
      const subsTwo = await queryCost(clients.dynamodb, {
        TableName: subthings,
        KeyConditionExpression: 'thingId = :t',
        ExpressionAttributeValues: marshall({ ':t': 'u0-a0' }),
        ConsistentRead: true,
      });
      const n = OWNERS * THINGS;
      const rows: ResultRow[] = [
        { measure: 'WCU per thing written', tributary: oneThing, baseline: twoThingWcu / n, unit: 'WCU' },
        { measure: 'WCU per subthing written', tributary: oneSub, baseline: twoSubWcu / (n * SUBTHINGS), unit: 'WCU' },
        {
          measure: "items read listing an owner's things",
          tributary: listSingle.items,
          baseline: listTwo.items,
          unit: 'items',
        },
        { measure: "RCU listing an owner's things", tributary: listSingle.rcu, baseline: listTwo.rcu, unit: 'RCU' },
        {
          measure: "items read listing a thing's subthings",
          tributary: subsSingle.items,
          baseline: subsTwo.items,
          unit: 'items',
        },
        { measure: "RCU listing a thing's subthings", tributary: subsSingle.rcu, baseline: subsTwo.rcu, unit: 'RCU' },
      ];
      return {
        name: 'owner-things',
        title: ownerThingsBench.title,
        command: 'npm run bench -- owner-things',
        columns: { tributary: 'one table', baseline: 'two tables + GSI' },
        rows,
        notes: [
          `${OWNERS} owners x ${THINGS} things x ${SUBTHINGS} subthings of ~${PAYLOAD.length} bytes; listings of owner u0 (${listed.items.length} things returned by ownerThings.listThings) and of its thing a0`,
          'one table: a write is one item and no index; listing things reads their subthings too (a Query cannot skip them) and filters them out. Two tables: a thing write also writes the GSI; listing things reads the GSI only (eventually consistent)',
        ],
      };
    } finally {
      tk.stop();
      destroyClients(clients);
      await emu.stop();
    }
  },
};
