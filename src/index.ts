// The public surface of tributary: a deliberate list.

// Model
export { app, pipeline, PipelineBuilder } from './core/pipeline.js';
export type { AppDef, AppOptions, DevHooks, PipelineDef, PipelineOptions } from './core/pipeline.js';
export type { DynamoChange, KinesisRecord, ChangeKind, SourceRecord } from './core/records.js';
export type { Position, Checkpoint } from './core/position.js';
export type { Batch, Rejected } from './core/batch.js';
export type { StreamSource, BoundSource, ShardReader, ShardInfo, StartPosition } from './core/source.js';
export type { Sink, SinkEnv, WriteContext } from './core/sink.js';
export type { TableSpec, KeyType, KeyAttr, GsiSpec, Provisioned } from './core/tables.js';
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

// Sinks
export { tableWriter } from './sinks/table-writer.js';
export type { TableIO } from './core/table-io.js';
export { put, del, type TableWrite, type PutWrite, type DeleteWrite } from './sinks/table-writes.js';
export type { DeadLetter } from './sinks/dead-letters.js';

// Runtime
export { Runner } from './runtime/runner.js';
export type { RunnerOptions } from './runtime/options.js';
export { createClients, type ClientConfig } from './runtime/clients.js';

// Observability
export { Metrics } from './observe/metrics.js';
export { jsonLogger, silentLogger, type Logger } from './observe/log.js';
