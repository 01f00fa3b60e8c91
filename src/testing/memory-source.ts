import type { Batch } from '../core/batch.js';
import { compareSequence, type Checkpoint } from '../core/position.js';
import type { SourceRecord } from '../core/records.js';
import type { BoundSource, ShardInfo, ShardReader, StartPosition, StreamSource } from '../core/source.js';

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

const SEQ_WIDTH = 21;
const seqOf = (i: number) => String(i + 1).padStart(SEQ_WIDTH, '0');

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
export function memorySource<T>(name: string, shards: readonly MemoryShard<T>[], options: MemorySourceOptions = {}): StreamSource<MemoryRecord<T>> & { append(shardId: string, values: readonly T[]): void } {
  const appended = new Map<string, T[]>();
  const startPosition: StartPosition = 'TRIM_HORIZON';
  const count = (s: MemoryShard<T>) => (Array.isArray(s.values) ? s.values.length : (s.values as { count: number }).count) + (appended.get(s.shardId)?.length ?? 0);
  const at = (s: MemoryShard<T>, i: number): T => {
    const v = s.values as readonly T[] | { count: number; at: (i: number) => T };
    const base = Array.isArray(v) ? v.length : (v as { count: number }).count;
    if (i < base) return Array.isArray(v) ? (v as readonly T[])[i]! : (v as { at: (i: number) => T }).at(i);
    return appended.get(s.shardId)![i - base]!;
  };
  const bound: BoundSource<MemoryRecord<T>> = {
    name,
    async listShards(): Promise<readonly ShardInfo[]> {
      return shards.map((s) => ({ shardId: s.shardId, parentShardIds: s.parentShardIds ?? [], endingSequenceNumber: s.closed === false ? undefined : seqOf(count(s) - 1) }));
    },
    async openShard(info: ShardInfo, from: Checkpoint): Promise<ShardReader<MemoryRecord<T>>> {
      const s = shards.find((x) => x.shardId === info.shardId)!;
      let next = from.kind === 'sequence' ? indexAfter(from.sequenceNumber) : from.kind === 'LATEST' ? count(s) : 0;
      let seq = 0;
      let ended = from.kind === 'SHARD_END';
      const size = options.batchSize ?? 1000;
      return {
        async next(signal: AbortSignal): Promise<Batch<MemoryRecord<T>> & { ended: boolean }> {
          while (!ended && next >= count(s) && s.closed === false && !signal.aborted) await new Promise((r) => setTimeout(r, 20));
          // Give the event loop a turn per batch, as a network fetch would: checkpoints and lease
          // renewals must get their answers while a backlog drains.
          await new Promise((r) => setImmediate(r));
          const end = Math.min(count(s), next + size);
          const records: MemoryRecord<T>[] = [];
          for (let i = next; i < end; i++) records.push({ type: 'memory', value: at(s, i), position: { source: name, shardId: s.shardId, sequenceNumber: seqOf(i) } });
          next = end;
          if (s.closed !== false && next >= count(s)) ended = true;
          const checkpoint: Checkpoint | undefined = ended ? { kind: 'SHARD_END' } : records.length ? { kind: 'sequence', sequenceNumber: seqOf(end - 1), subSequenceNumber: 0 } : undefined;
          return { source: name, shardId: s.shardId, seq: seq++, records, rejected: [], checkpoint, ended };
        },
      };
    },
  };
  return {
    name,
    kind: 'memory',
    startPosition,
    bind: async () => bound,
    append(shardId: string, values: readonly T[]) {
      appended.set(shardId, [...(appended.get(shardId) ?? []), ...values]);
    },
  };
}

function indexAfter(sequenceNumber: string): number {
  // Sequence numbers are 1-based indexes: the record after sequence n has index n.
  return compareSequence(sequenceNumber, '0') > 0 ? Number(sequenceNumber) : 0;
}
