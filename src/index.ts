// The public surface of tributary: a deliberate list.

// Model
export { app, pipeline, PipelineBuilder } from './core/pipeline.js';
export type { AppDef, AppOptions, DevHooks, Guarantee, PipelineDef, PipelineOptions } from './core/pipeline.js';
export type { Effect, AddEffect, PutEffect, DeleteEffect, ItemEffect, EffectCondition } from './core/effects.js';
export { withoutMarks, isMarkAttribute } from './core/applied-marks.js';
export type {
  DynamoChange,
  ItemChange,
  KinesisDynamoChange,
  KinesisRecord,
  ChangeKind,
  SourceRecord,
} from './core/records.js';
export type { Position, Checkpoint } from './core/position.js';
export type { Batch, Rejected } from './core/batch.js';
export type { StreamSource, BoundSource, ShardReader, ShardInfo, StartPosition } from './core/source.js';
export type { Sink, SinkEnv, WriteContext } from './core/sink.js';
export type { ImageNeeds, StreamViewType } from './core/images.js';
export type { TableSpec, KeyType, KeyAttr, GsiSpec, Provisioned } from './core/tables.js';
export type { KeyValue } from './core/key-rules.js';
export { NumberValue, exactNumber } from './core/numbers.js';
export type { DynamoNumber } from './core/numbers.js';
export type { View } from './core/view.js';
export { isView } from './core/view.js';
export { appTables } from './core/app-tables.js';
export type { Clients } from './core/clients.js';
export { TributaryError, isTributaryError } from './core/errors.js';
export type { ErrorCode, Fault } from './core/errors.js';

// Sources
export { dynamodbTable, type DynamoTableSourceOptions } from './sources/dynamodb/source.js';
export { kinesisStream, type KinesisStreamOptions } from './sources/kinesis/source.js';
export { json, standardSchema, text, bytes, type Decoder, type DecodeResult } from './sources/decoding/index.js';

// Operators
export type { RuntimeOperator, OperatorEnv } from './core/operator.js';
export { dedupe, type DedupeOptions, type DedupeWindow } from './operators/dedupe.js';
export {
  lookup,
  type LookupOptions,
  type LookupGet,
  type LookupCache,
  type LookupKey,
  type Enriched,
} from './operators/lookup.js';

// Sinks
export { tableWriter } from './sinks/table-writer.js';
export type { TableIO } from './core/table-io.js';
export { put, del, type TableWrite, type PutWrite, type DeleteWrite } from './sinks/table-writes.js';
export type { DeadLetter } from './sinks/dead-letters.js';

// Views
export { counterView, type CounterView } from './views/counter/view.js';
export type { CounterViewOptions, CounterFlushOptions, CounterKey, Increment } from './views/counter/options.js';
export type { CounterStats } from './views/counter/flusher.js';
export { bucket, hopping, bucketStart, type BucketSize, type TimeInput } from './core/buckets.js';
export { indexView } from './views/index-view/view.js';
export type {
  IndexView,
  IndexViewOptions,
  IndexViewProjectFnOptions,
  IndexViewCommonOptions,
  IndexViewStats,
  ViewKeyAttr,
} from './views/index-view/options.js';
export {
  queryView,
  fetchBase,
  type QueryViewOptions,
  type SortCondition,
  type ViewPage,
  type ViewPageWithBase,
} from './views/index-view/query.js';
export type { ReadTarget } from './views/index-view/read-target.js';
export { mirror, type MirrorOptions, type MirrorStats, type MirrorView } from './views/mirror/view.js';
export type { MirrorInput, MirrorVersioning } from './views/mirror/plan.js';
export {
  visibleMirrorItem,
  getMirrored,
  queryMirror,
  type MirrorPage,
  type MirrorReadOptions,
} from './views/mirror/read.js';
export { MIRROR_HIDDEN_ATTRIBUTES } from './views/mirror/version.js';
export { kinesisBridge, type KinesisBridgeOptions } from './sinks/kinesis-bridge/sink.js';
export { kinesisDynamoChanges } from './sources/decoding/kinesis-dynamodb.js';
export type { DynamoKinesisRecordJson } from './core/dynamodb-json.js';
export { eventTable, type EventTableView, type EventLocation } from './views/event-table/view.js';
export type { EventTableOptions, EventTableLayout, RotationOptions } from './views/event-table/options.js';
export {
  replay,
  REPLAY_SHARD,
  type ReplayedEvent,
  type ReplayOptions,
  type ReplayRange,
} from './views/event-table/replay.js';
export { readEvents } from './views/event-table/read-events.js';
export { rotationPlan, type RotationPlan } from './views/event-table/rotation-plan.js';
export { maintainRotation, type MaintainOptions, type MaintainResult } from './views/event-table/maintain.js';

// Runtime
export { Runner } from './runtime/runner.js';
export type { RunnerOptions } from './runtime/options.js';
export type { RuntimeSettings } from './core/runtime-settings.js';
export { systemClock, type Clock, type Timer } from './core/clock.js';
export type { CapacityConfig } from './runtime/capacity/config.js';
export { TableManager, type TableInfo } from './views/tables/manager.js';
export { tablePrefix, type TablePrefix } from './views/tables/naming.js';
export { planTable, type PlanOptions, type TableAction } from './views/tables/plan.js';
export { createClients, destroyClients, type ClientConfig } from './runtime/clients.js';
export { iamPolicy, type IamPolicy, type IamPolicyOptions } from './runtime/iam/policy.js';
export type { PolicyDocument, PolicyStatement } from './runtime/iam/statements.js';
export { IAM_ACTIONS, governedTable, stagedEffects } from './core/iam.js';
export type { IamAction, IamEnv, IamResource, Permission } from './core/iam.js';

// Taps: live windowed aggregates
export { tap, type TapDef, type TapOptions, type TapResult } from './taps/tap.js';
export type { TapSink } from './taps/tap-sink.js';
export type { TapEnvelope, TapEvent, TapShardFrontier, TapValue, TapWindow } from './taps/events.js';
export { TapFeed } from './taps/feed.js';
export { tumblingWindows, hoppingWindows, sessionWindows, type WindowAssigner } from './operators/windows/assigners.js';
export { count, sum, min, max, avg } from './operators/windows/exact-aggregations.js';
export { distinct } from './operators/windows/distinct.js';
export { topK } from './operators/windows/top-k.js';
export { percentiles } from './operators/windows/percentiles.js';
export { WindowedAggregation, type WindowedAggregationOptions } from './operators/windows/windowed-aggregation.js';

// Observability
export { Metrics, type MetricsOptions } from './observe/metrics.js';
export { startHttpServer, type HttpServer, type HttpServerOptions } from './observe/http/server.js';
export type {
  DeadLetterStatus,
  FlowCounts,
  HealthCheck,
  PipelineStatus,
  RunnerHealth,
  RunnerStatus,
  ShardStatus,
  StatusSource,
  TableStatus,
  WorkerStatus,
} from './observe/status/types.js';
export {
  CREDENTIAL_PATHS,
  fromPino,
  jsonLogger,
  silentLogger,
  type JsonLoggerOptions,
  type Logger,
} from './observe/log.js';
export { toolkit, type ToolkitOptions, type ToolkitHandle } from './runtime/toolkit.js';
export type { Toolkit } from './toolkit/context.js';
export {
  atom,
  nativeCodec,
  jsonTextCodec,
  type Atom,
  type AtomCodec,
  type AtomOptions,
  type SwapOptions,
} from './toolkit/atom.js';
export {
  batch,
  OperationBatch,
  BatchResult,
  type BatchOp,
  type BatchOptions,
  type BatchQuery,
} from './toolkit/batch.js';
export {
  ownerThings,
  type OwnerThings,
  type OwnerThingsOptions,
  type ListOptions,
  type Page,
  type Stored,
} from './toolkit/owner-things.js';
