/** A window of event time, in epoch ms (end exclusive). */
export interface TapWindow {
  readonly start: number;
  readonly end: number;
}

/** One aggregate: a window and key, and the aggregate's value there. */
export interface TapValue<V = unknown> {
  readonly window: TapWindow;
  readonly key: string;
  readonly value: V;
}

/** Where a shard's event time stands: its watermark, and whether it is active, idle or ended. */
export interface TapShardFrontier {
  readonly shardId: string;
  readonly watermark: number | null;
  readonly status: string;
}

/**
 * What a tap emits, to library subscribers (`runner.tap(name)`), over SSE and as NDJSON:
 * - `snapshot`: every open window now (the first event of a subscription or a reset);
 * - `update`: a provisional value of a window and key (`final: false`), throttled;
 * - `final`: the value of a window and key at its close (watermark ≥ end + allowed lateness);
 * - `progress`: the tap's watermark over every shard of the app, each shard's frontier, and the
 *   late records sent to the side output so far ("nothing earlier than the watermark will change");
 * - `lag`: how far behind the tip of each shard this worker's readers are.
 */
export type TapEvent<V = unknown> =
  | { readonly type: 'snapshot'; readonly values: readonly TapValue<V>[]; readonly watermark: number | null }
  | ({ readonly type: 'update'; readonly final: false } & TapValue<V>)
  | ({ readonly type: 'final'; readonly final: true } & TapValue<V>)
  | {
      readonly type: 'progress';
      readonly watermark: number | null;
      readonly shards: readonly TapShardFrontier[];
      readonly late: number;
    }
  | { readonly type: 'lag'; readonly shards: readonly { readonly shardId: string; readonly lagMs: number }[] };

/** An event with its resume token: `${boot}.${seq}`, increasing within one process's feed. */
export interface TapEnvelope<V = unknown> {
  readonly id: string;
  readonly event: TapEvent<V>;
}
