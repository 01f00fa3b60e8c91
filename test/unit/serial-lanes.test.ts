import { describe, expect, it } from 'vitest';
import { SerialLanes, shardLane } from '../../src/core/serial-lanes.js';

/** A promise the test settles by hand. */
const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe('SerialLanes', () => {
  it("runs a lane's tasks one after another, in order, while other lanes go on", async () => {
    const lanes = new SerialLanes();
    const log: string[] = [];
    const first = deferred();
    const a1 = lanes.run('a', async () => {
      log.push('a1 start');
      await first.promise;
      log.push('a1 end');
    });
    const a2 = lanes.run('a', async () => void log.push('a2'));
    await lanes.run('b', async () => void log.push('b1'));
    expect(log).toEqual(['a1 start', 'b1']);
    first.resolve();
    await Promise.all([a1, a2]);
    expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
  });

  it('rejects a failed task to its caller and runs the next task of the lane all the same', async () => {
    const lanes = new SerialLanes();
    const failed = lanes.run('a', () => Promise.reject(new Error('boom')));
    const next = lanes.run('a', async () => 'next');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('next');
  });

  it('idle resolves once every task queued so far has settled', async () => {
    const lanes = new SerialLanes();
    const d = deferred();
    let done = false;
    void lanes.run('a', () => d.promise.then(() => void (done = true)));
    void lanes.run('b', () => Promise.reject(new Error('ignored by idle')));
    const idle = lanes.idle();
    d.resolve();
    await idle;
    expect(done).toBe(true);
  });

  it('names a lane by shard', () => {
    expect(shardLane({ source: 'orders', shardId: 'shardId-1' })).toBe('orders#shardId-1');
    expect(shardLane(undefined)).toBe('');
  });
});
