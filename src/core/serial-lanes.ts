import type { Position } from './position.js';

/**
 * Runs tasks one after another per lane (a shard, a lease), concurrently across lanes: per-key
 * order holds within a shard while shards do not wait for each other. A task that fails does not
 * stop the lane: the next one runs after it all the same.
 *
 * @example
 * ```ts
 * const lanes = new SerialLanes();
 * await lanes.run(shardLane(ctx.positions[0]), () => io.batchWrite(requests));
 * await lanes.idle();
 * ```
 */
export class SerialLanes {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `task` once every task queued before it on `lane` has settled; settles as the task does. */
  run<T>(lane: string, task: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(lane) ?? Promise.resolve();
    const next = prev.then(task, task);
    const tail = next.catch(() => undefined);
    this.tails.set(lane, tail);
    void tail.then(() => {
      if (this.tails.get(lane) === tail) this.tails.delete(lane);
    });
    return next;
  }

  /** Resolves when every task queued so far has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}

/**
 * The lane of a batch or a write: its shard (`''` for a write with no records), so that writes of
 * one shard reach a table in the order the shard delivered them.
 */
export const shardLane = (p: Pick<Position, 'source' | 'shardId'> | undefined): string =>
  p ? `${p.source}#${p.shardId}` : '';
