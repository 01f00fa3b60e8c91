import { Observable, type OperatorFunction } from 'rxjs';
import type { PipelineDef } from '../core/pipeline.js';
import { pipeline } from '../core/pipeline.js';
import type { StreamSource } from '../core/source.js';
import type { SourceRecord } from '../core/records.js';
import type { AggregateResult, AggregateSpec } from '../operators/windows/aggregation.js';
import type { WindowAssigner } from '../operators/windows/assigners.js';
import { TapSink } from './tap-sink.js';

/** How a tap computes: its source, windows, aggregates and emission. */
export interface TapOptions<R extends SourceRecord, A extends AggregateSpec<R>> {
  /** The source it taps; it shares the source's readers with the app's pipelines. */
  readonly from: StreamSource<R>;
  /** `tumblingWindows(60_000)`, `hoppingWindows(300_000, 60_000)` or `sessionWindows(30_000)`. */
  readonly window: WindowAssigner;
  /** What is computed per window and key: `{ clicks: count(), p99: percentiles((r) => r.value.ms, [0.99]) }`. */
  readonly aggregate: A;
  /** What records are grouped by inside a window (a page). Default one group, key `''`. */
  readonly key?: (record: R) => string | number;
  /**
   * A record's event time. Default its stream time: `approximateCreationTime` (DynamoDB Streams)
   * or `arrivalTime` (Kinesis).
   */
  readonly time?: (record: R) => number | Date;
  /** `'update'`: provisional values as windows change (throttled), then finals; `'final'`: finals only. Default `'update'`. */
  readonly emit?: 'update' | 'final';
  /** Grace after a window's end before it closes; later records go to the late side output. Default 0. */
  readonly allowedLatenessMs?: number;
  /** Bounded out-of-orderness of a shard's records (its watermark trails its newest time by this). Default 0. */
  readonly maxOutOfOrderMs?: number;
  /** A shard without records for this long stops holding the watermark back. Default 60,000 ms. */
  readonly idleTimeoutMs?: number;
  /**
   * Least time between two emissions of changes (updates are coalesced in between): a change
   * after a quiet spell is emitted at once. Default 250 ms. A quiet tap still ticks every second
   * (or every `updateEveryMs`, if longer), for the watermark and the other workers' parts.
   */
  readonly updateEveryMs?: number;
  /**
   * A DynamoDB table that receives each final window as an item (partition key `key`, sort key
   * `window` = `<start>-<end>`, with `start`, `end` and each aggregate as attributes), once the
   * window is final. Every worker writes the same value for a final window (the merge of all
   * shards' parts), so the table holds each window once, whatever the pipeline's guarantee.
   */
  readonly table?: string;
  /** Operators applied to each batch before the tap (filter, map): `from(batch).pipe(...)`. */
  readonly pipe?: readonly OperatorFunction<R, R>[];
}

/** A tap of an app, as `app()` takes it: a pipeline whose sink is the tap. */
export type TapDef<R extends SourceRecord = SourceRecord, A extends AggregateSpec<R> = AggregateSpec<R>> = PipelineDef<
  R,
  R
> & {
  readonly tap: TapSink<R, A>;
};

/**
 * Declares a live windowed aggregate of a source, for people and dashboards: put it beside the
 * app's pipelines. One computation per process serves every subscriber: `runner.tap(name)` (an
 * Observable of snapshot, update, final, progress and lag events), `/taps/:name` (Server-Sent
 * Events with resume tokens, or `?format=ndjson`) and `/taps/:name/view` (a live chart).
 *
 * @example
 * ```ts
 * export default app('shop', [
 *   tap('clicks-per-page', {
 *     from: kinesisStream<Click>('clicks'),
 *     window: tumblingWindows(60_000),
 *     key: (r) => r.value.page,
 *     time: (r) => r.value.at,
 *     aggregate: { clicks: count(), p99: percentiles((r) => r.value.ms, [0.99]) },
 *     allowedLatenessMs: 5_000,
 *   }),
 * ]);
 * ```
 */
export function tap<R extends SourceRecord, A extends AggregateSpec<R>>(
  name: string,
  opts: TapOptions<R, A>,
): TapDef<R, A> {
  const sink = new TapSink<R, A>(name, opts);
  const ops = (opts.pipe ?? []) as readonly OperatorFunction<unknown, unknown>[];
  let b = pipeline(`tap.${name}`).from(opts.from) as unknown as {
    pipe(op: OperatorFunction<unknown, unknown>): typeof b;
    to(s: TapSink<R, A>): PipelineDef<R, R>;
  };
  b = b.pipe(freshOnly(sink) as OperatorFunction<unknown, unknown>);
  for (const op of ops) b = b.pipe(op);
  return Object.assign(b.to(sink), { tap: sink });
}

/**
 * The first operator of a tap's pipeline: passes on the records of a batch that the tap's state
 * does not hold yet (see `TapSink.fresh`), synchronously once the shard's state is loaded.
 */
function freshOnly<R extends SourceRecord>(sink: Pick<TapSink<R, AggregateSpec<R>>, 'fresh'>): OperatorFunction<R, R> {
  return (source) =>
    new Observable<R>((out) => {
      const batch: R[] = [];
      const emit = (rs: readonly R[]) => {
        for (const r of rs) out.next(r);
        out.complete();
      };
      return source.subscribe({
        next: (r) => batch.push(r),
        error: (e: unknown) => out.error(e),
        complete: () => {
          try {
            const fresh = sink.fresh(batch);
            if (fresh instanceof Promise) fresh.then(emit, (e: unknown) => out.error(e));
            else emit(fresh);
          } catch (e) {
            out.error(e);
          }
        },
      });
    });
}

/** The tap of a pipeline of an app, if it is one. */
export const tapOf = (p: PipelineDef): TapSink<SourceRecord, AggregateSpec<SourceRecord>> | undefined =>
  (p as Partial<TapDef>).tap;

/** The values a tap's aggregate spec yields per window and key. */
export type TapResult<A> = AggregateResult<A>;
