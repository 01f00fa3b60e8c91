import { marshall } from '@aws-sdk/util-dynamodb';
import type { TableIO } from '../core/table-io.js';
import type { TapValue } from './events.js';

/**
 * Writes a tap's final windows to its table (partition key `key`, sort key `window` as
 * `<start>-<end>`, the window's aggregates as attributes), through the table's governed I/O.
 * Every worker writes the same merged value of a window, so a window is one item whoever writes
 * it, however often.
 *
 * @example
 * ```ts
 * const finals = new FinalsWriter(env.io('clicks_per_minute'));
 * finals.add([{ window: { start, end }, key: '/home', value: { clicks: 3 } }]);
 * await finals.flush(); // on failure, the finals stay for the next flush
 * ```
 */
export class FinalsWriter {
  private pending: TapValue[] = [];

  constructor(private readonly io: TableIO) {}

  add(finals: readonly TapValue[]): void {
    this.pending.push(...finals);
  }

  async flush(): Promise<void> {
    const finals = this.pending;
    this.pending = [];
    if (finals.length === 0) return;
    try {
      await this.io.batchWrite(
        finals.map((f) => ({
          PutRequest: {
            Item: marshall(
              {
                ...(f.value as object),
                key: f.key,
                window: `${f.window.start}-${f.window.end}`,
                start: f.window.start,
                end: f.window.end,
              },
              { removeUndefinedValues: true, convertClassInstanceToMap: true },
            ),
          },
        })),
      );
    } catch (e) {
      this.pending.unshift(...finals);
      throw e;
    }
  }
}
