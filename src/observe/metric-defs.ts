/**
 * Every metric tributary reports, declared once: Prometheus type, help text, label names and, for
 * histograms, buckets. Names follow Prometheus conventions: base units (`_seconds`), `_total` on
 * counters, and the unit before `_total` when a counter adds up a unit (`_wait_seconds_total`).
 */
interface MetricDef {
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
}

/** Shard-level series carry the source and the shard; a reader that only knows the shard leaves `source` out. */
const SHARD = ['source', 'shard'] as const;
const CAPACITY = ['table', 'kind'] as const;

/**
 * Seconds, for work that one batch waits for: a write to DynamoDB takes milliseconds, a batch
 * behind throttled capacity or a buffering sink takes seconds, and one behind a long capacity
 * wait up to minutes; beyond two minutes the exact figure no longer matters.
 */
export const BATCH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] as const;

/**
 * Seconds from a record's creation to its acknowledgement: a pipeline that keeps up sits between
 * the stream's own delay and a few seconds (DynamoDB Streams and Kinesis polling add up to about a
 * second); a backlog reaches minutes or hours, up to the streams' 24-hour retention (Kinesis can
 * keep a year, which the last bucket and `+Inf` absorb).
 */
export const END_TO_END_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600] as const;

/** The metrics of one runner, by name. */
export const METRICS = {
  tributary_records_in_total: { type: 'counter', help: 'Records delivered to a pipeline', labels: ['pipeline'] },
  tributary_records_applied_total: {
    type: 'counter',
    help: 'Records whose effects are durable in every sink of the pipeline',
    labels: ['pipeline'],
  },
  tributary_dead_letters_total: {
    type: 'counter',
    help: 'Records sent to the dead letters (stage: decode, pipeline or sink)',
    labels: ['pipeline', 'stage'],
  },
  tributary_dead_letter_share: {
    type: 'gauge',
    help: "Share of the pipeline's last records (its deadLetterBudget's window, default 100) sent to the dead letters",
    labels: ['pipeline'],
  },
  tributary_retries_total: {
    type: 'counter',
    help: 'Batches retried after user code or a sink failed',
    labels: ['pipeline'],
  },
  tributary_batches_total: { type: 'counter', help: 'Batches fetched per shard', labels: SHARD },
  tributary_checkpoints_total: { type: 'counter', help: 'Checkpoints written', labels: SHARD },
  tributary_trimmed_data_total: {
    type: 'counter',
    help: 'Times a shard was found trimmed past its checkpoint',
    labels: SHARD,
  },
  tributary_iterator_expired_total: {
    type: 'counter',
    help: 'Shard iterators that expired and were re-acquired',
    labels: SHARD,
  },
  tributary_read_throttled_total: { type: 'counter', help: 'GetRecords calls throttled', labels: SHARD },
  tributary_backfill_scanned_items: {
    type: 'gauge',
    help: "Items a backfill's Scan has read, over every worker",
    labels: ['source'],
  },
  tributary_backfill_reconciled_total: {
    type: 'counter',
    help: "Changes of a backfilled table's stream dropped because the backfill's Scan had included them",
    labels: SHARD,
  },
  tributary_behind_seconds: {
    type: 'gauge',
    help: 'Seconds behind the tip of the shard at the last read',
    labels: SHARD,
  },
  tributary_leases_held: { type: 'gauge', help: 'Leases this worker holds', labels: [] },
  tributary_leases_lost_total: {
    type: 'counter',
    help: 'Leases lost to another worker or expiry',
    labels: ['source'],
  },
  tributary_capacity_budget_units_per_second: {
    type: 'gauge',
    help: 'Capacity units per second a table may use (provisioned x share, or configured)',
    labels: CAPACITY,
  },
  tributary_capacity_rate_units_per_second: {
    type: 'gauge',
    help: 'Current send rate under the budget after throttling, in capacity units per second',
    labels: CAPACITY,
  },
  tributary_hot_key_units_per_second: {
    type: 'gauge',
    help: "Capacity units per second of a table's hottest partition key over the last 10 s",
    labels: CAPACITY,
  },
  tributary_hot_key_partition_share: {
    type: 'gauge',
    help: "A table's hottest partition key's units per second over what one partition serves (1,000 WCU, 3,000 RCU)",
    labels: CAPACITY,
  },
  tributary_hot_key_budget_share: {
    type: 'gauge',
    help: "A table's hottest partition key's units per second over the table's budget",
    labels: CAPACITY,
  },
  tributary_capacity_consumed_units_total: {
    type: 'counter',
    help: 'Capacity units consumed, as DynamoDB reports them (estimated when it does not)',
    labels: CAPACITY,
  },
  tributary_capacity_throttled_total: {
    type: 'counter',
    help: 'Requests or items throttled (throughput exceptions and unprocessed items)',
    labels: CAPACITY,
  },
  tributary_capacity_wait_seconds_total: {
    type: 'counter',
    help: 'Seconds callers waited for capacity tokens',
    labels: CAPACITY,
  },
  tributary_aws_failed_attempts_total: {
    type: 'counter',
    help: 'Attempts of AWS calls that got no answer or a server error (retries included), by service, operation and error name',
    labels: ['service', 'operation', 'error'],
  },
  tributary_batch_processing_seconds: {
    type: 'histogram',
    help: 'Seconds from handing a batch to a pipeline to its acknowledgement (applied or dead-lettered)',
    labels: ['pipeline'],
    buckets: BATCH_BUCKETS,
  },
  tributary_sink_write_seconds: {
    type: 'histogram',
    help: "Seconds from a sink's write call to the writes being durable (buffering included; failed writes are not observed)",
    labels: ['pipeline', 'sink'],
    buckets: BATCH_BUCKETS,
  },
  tributary_end_to_end_seconds: {
    type: 'histogram',
    help: "Seconds from the creation of a batch's first record (its stream's approximate time) to the batch's acknowledgement; one observation per batch",
    labels: ['pipeline'],
    buckets: END_TO_END_BUCKETS,
  },
} as const satisfies Readonly<Record<string, MetricDef>>;

export type MetricName = keyof typeof METRICS;
type NameOf<T extends MetricDef['type']> = {
  [N in MetricName]: (typeof METRICS)[N]['type'] extends T ? N : never;
}[MetricName];
export type CounterName = NameOf<'counter'>;
export type GaugeName = NameOf<'gauge'>;
export type HistogramName = NameOf<'histogram'>;
/** Label values of one series of metric `N`: any subset of its declared label names. */
export type LabelsOf<N extends MetricName> = Readonly<Partial<Record<(typeof METRICS)[N]['labels'][number], string>>>;
