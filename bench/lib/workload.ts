import type { BoundSource, ShardReader, StreamSource } from '../../src/core/source.js';
import type { SourceRecord } from '../../src/core/records.js';
import type { Sink } from '../../src/core/sink.js';

/** Resolves after pending I/O callbacks have run, as a networked fetch would let them. */
export const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Wraps a source so that `onRead` hears of every fetch: benchmarks start their clock at the
 * first one rather than at `runner.start()`, which creates tables and takes leases first.
 * With `yieldEachFetch`, every fetch first lets the event loop run, as a fetch over the network
 * does; an in-memory source otherwise answers in microtasks, and the whole run can then pass
 * without a single I/O callback (checkpoint responses, lease renewals) being handled. With `gate`,
 * fetches wait for it first (and the clock with them): see `emulatorsQuiet`.
 */
export function observedSource<R extends SourceRecord>(
  src: StreamSource<R>,
  onRead: () => void,
  opts: { yieldEachFetch?: boolean; gate?: Promise<void> } = {},
): StreamSource<R> {
  return {
    name: src.name,
    kind: src.kind,
    startPosition: src.startPosition,
    async bind(env) {
      const bound = await src.bind(env);
      const wrapped: BoundSource<R> = {
        name: bound.name,
        listShards: () => bound.listShards(),
        async openShard(shard, from): Promise<ShardReader<R>> {
          const reader = await bound.openShard(shard, from);
          return {
            async next(signal) {
              if (opts.gate) await opts.gate;
              onRead();
              if (opts.yieldEachFetch) await yieldToEventLoop();
              return reader.next(signal);
            },
          };
        },
      };
      return wrapped;
    },
  };
}

/** A sink that only counts what it is given and acknowledges at once. */
export class CountingSink<O> implements Sink<O> {
  readonly name = 'count';
  outputs = 0;
  records = 0;
  writes = 0;

  write(outputs: readonly O[], ctx: { readonly positions: readonly unknown[] }): Promise<void> {
    this.outputs += outputs.length;
    this.records += ctx.positions.length;
    this.writes++;
    return Promise.resolve();
  }
}
