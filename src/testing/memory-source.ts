import type { Batch, Rejected } from '../core/batch.js';
import { compareSequence, type Checkpoint, type Position } from '../core/position.js';
import type { SourceRecord } from '../core/records.js';
import type { BoundSource, ShardInfo, ShardReader, StartPosition, StreamSource } from '../core/source.js';
import { decodePage, rejection, type Decoder } from '../sources/decoding/decoder.js';

/** A shard of an in-memory source: records with consecutive sequence numbers, open or closed. */
export interface MemoryShard<T> {
  readonly shardId: string;
  readonly parentShardIds?: readonly string[];
  /** Values, or a generator of `count` values by index (so a large backlog need not be built in memory). */
  readonly values: readonly T[] | { readonly count: number; readonly at: (i: number) => T };
  /** A closed shard ends after its values; an open one then waits for more. Default true. */
  readonly closed?: boolean;
}

/** A record of an in-memory source. */
export interface MemoryRecord<T> extends SourceRecord {
  readonly type: 'memory';
  readonly value: T;
}

export interface MemorySourceOptions {
  /** Records per batch. Default 1,000. */
  readonly batchSize?: number;
}

/**
 * Values that are payloads to decode, as a Kinesis source decodes its data: each batch goes through
 * the decoder at once (`decodePage`), and a payload it rejects goes to the dead letters.
 */
export interface MemoryDecode<V, T> {
  readonly decoder: Decoder<T>;
  /** The payload bytes of a value (for a Lambda-shaped Kinesis record: its base64 `data`, decoded). */
  readonly payload: (value: V) => Uint8Array;
}

/** An in-memory source; `append` adds values to a shard (an open shard then serves them). */
export type MemorySource<V, T = V> = StreamSource<MemoryRecord<T>> & {
  append(shardId: string, values: readonly V[]): void;
};

const SEQ_WIDTH = 21;
const seqOf = (i: number) => String(i + 1).padStart(SEQ_WIDTH, '0');

/**
 * An in-memory source whose values are payloads, decoded a batch at a time like a Kinesis
 * source's data; rejected payloads go to the dead letters with the decoder's reason.
 *
 * @example
 * ```ts
 * const orders = memorySource('orders', [{ shardId: 's-0', values: lambdaEvent.Records }], {
 *   decode: { decoder: json<Order>(), payload: (r) => Buffer.from(r.kinesis.data, 'base64') },
 * });
 * ```
 */
export function memorySource<V, T>(
  name: string,
  shards: readonly MemoryShard<V>[],
  options: MemorySourceOptions & { readonly decode: MemoryDecode<V, T> },
): MemorySource<V, T>;
/**
 * A source over values held in memory, with shards and lineage like a real stream. For unit
 * tests and benchmarks of pipelines and of the runner; checkpoints work as with real streams.
 *
 * @example
 * ```ts
 * const src = memorySource('numbers', [{ shardId: 's-0', values: [1, 2, 3] }]);
 * pipeline('double').from(src).pipe(map(r => r.value * 2)).to(sink)
 * ```
 */
export function memorySource<T>(
  name: string,
  shards: readonly MemoryShard<T>[],
  options?: MemorySourceOptions,
): MemorySource<T>;
export function memorySource<V, T>(
  name: string,
  shards: readonly MemoryShard<V>[],
  options: MemorySourceOptions & { readonly decode?: MemoryDecode<V, T> } = {},
): MemorySource<V, T> {
  const appended = new Map<string, V[]>();
  const startPosition: StartPosition = 'TRIM_HORIZON';
  const decode = options.decode;
  const count = (s: MemoryShard<V>) =>
    (Array.isArray(s.values) ? s.values.length : (s.values as { count: number }).count) +
    (appended.get(s.shardId)?.length ?? 0);
  const at = (s: MemoryShard<V>, i: number): V => {
    const v = s.values as readonly V[] | { count: number; at: (i: number) => V };
    const base = Array.isArray(v) ? v.length : (v as { count: number }).count;
    if (i < base) return Array.isArray(v) ? (v as readonly V[])[i]! : (v as { at: (i: number) => V }).at(i);
    return appended.get(s.shardId)![i - base]!;
  };
  const positionOf = (s: MemoryShard<V>, i: number): Position => ({
    source: name,
    shardId: s.shardId,
    sequenceNumber: seqOf(i),
  });
  /** Records of values [from, to): as they are, or decoded (and rejected) as a page. */
  const read = async (
    s: MemoryShard<V>,
    from: number,
    to: number,
  ): Promise<{ records: MemoryRecord<T>[]; rejected: Rejected[] }> => {
    const records: MemoryRecord<T>[] = [];
    if (!decode) {
      for (let i = from; i < to; i++)
        records.push({ type: 'memory', value: at(s, i) as unknown as T, position: positionOf(s, i) });
      return { records, rejected: [] };
    }
    const payloads: Uint8Array[] = [];
    for (let i = from; i < to; i++) payloads.push(decode.payload(at(s, i)));
    const results = await decodePage(decode.decoder, payloads);
    const rejected: Rejected[] = [];
    for (let k = 0; k < payloads.length; k++) {
      const res = results[k]!;
      if (res.ok) records.push({ type: 'memory', value: res.value, position: positionOf(s, from + k) });
      else rejected.push(rejection(positionOf(s, from + k), res, payloads[k]!));
    }
    return { records, rejected };
  };
  const bound: BoundSource<MemoryRecord<T>> = {
    name,
    async listShards(): Promise<readonly ShardInfo[]> {
      return shards.map((s) => ({
        shardId: s.shardId,
        parentShardIds: s.parentShardIds ?? [],
        endingSequenceNumber: s.closed === false ? undefined : seqOf(count(s) - 1),
      }));
    },
    async openShard(info: ShardInfo, from: Checkpoint): Promise<ShardReader<MemoryRecord<T>>> {
      const s = shards.find((x) => x.shardId === info.shardId)!;
      let next = from.kind === 'sequence' ? indexAfter(from.sequenceNumber) : from.kind === 'LATEST' ? count(s) : 0;
      let seq = 0;
      let ended = from.kind === 'SHARD_END';
      const size = options.batchSize ?? 1000;
      return {
        async next(signal: AbortSignal): Promise<Batch<MemoryRecord<T>> & { ended: boolean }> {
          while (!ended && next >= count(s) && s.closed === false && !signal.aborted)
            await new Promise((r) => setTimeout(r, 20));
          // Give the event loop a turn per batch, as a network fetch would: checkpoints and lease
          // renewals must get their answers while a backlog drains.
          await new Promise((r) => setImmediate(r));
          const start = next;
          const end = Math.min(count(s), next + size);
          const { records, rejected } = await read(s, start, end);
          next = end;
          if (s.closed !== false && next >= count(s)) ended = true;
          const checkpoint: Checkpoint | undefined = ended
            ? { kind: 'SHARD_END' }
            : end > start
              ? { kind: 'sequence', sequenceNumber: seqOf(end - 1), subSequenceNumber: 0 }
              : undefined;
          return { source: name, shardId: s.shardId, seq: seq++, records, rejected, checkpoint, ended };
        },
      };
    },
  };
  return {
    name,
    kind: 'memory',
    startPosition,
    // In memory: no AWS call.
    iam: () => [],
    bind: async () => bound,
    append(shardId: string, values: readonly V[]) {
      appended.set(shardId, [...(appended.get(shardId) ?? []), ...values]);
    },
  };
}

function indexAfter(sequenceNumber: string): number {
  // Sequence numbers are 1-based indexes: the record after sequence n has index n.
  return compareSequence(sequenceNumber, '0') > 0 ? Number(sequenceNumber) : 0;
}
