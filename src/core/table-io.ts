import type {
  AttributeValue,
  DeleteItemCommandInput,
  PutItemCommandInput,
  QueryCommandInput,
  QueryCommandOutput,
  ScanCommandInput,
  ScanCommandOutput,
  TransactWriteItem,
  UpdateItemCommandInput,
  WriteRequest,
} from '@aws-sdk/client-dynamodb';

/**
 * The calls a sink or view makes on one physical table. The runtime hands each sink one per table
 * (`SinkEnv.io`), with retries and capacity accounting inside; sinks never call the client directly
 * for data-plane writes. (Type-only imports: `core` loads no AWS client.)
 */
export interface TableIO {
  readonly table: string;
  /** Writes every request, 25 per call, retrying unprocessed items until all are written. Keys must be distinct. */
  batchWrite(requests: readonly WriteRequest[], unitsOf?: (r: WriteRequest) => number): Promise<void>;
  put(input: Omit<PutItemCommandInput, 'TableName'>, units?: number, guard?: SendGuard): Promise<void>;
  delete(input: Omit<DeleteItemCommandInput, 'TableName'>, units?: number, guard?: SendGuard): Promise<void>;
  /** Resolves false when the condition failed (nothing written). */
  update(input: Omit<UpdateItemCommandInput, 'TableName'>, units?: number, guard?: SendGuard): Promise<boolean>;
  transactWrite(items: readonly TransactWriteItem[], units?: number): Promise<void>;
  batchGet(
    keys: readonly Record<string, AttributeValue>[],
    projection?: { expression: string; names?: Record<string, string> },
    consistent?: boolean,
  ): Promise<Record<string, AttributeValue>[]>;
  query(input: Omit<QueryCommandInput, 'TableName'>, units?: number): Promise<QueryCommandOutput>;
  /** One page of a scan (a segment of a parallel scan, say); `units` is the read estimate taken before it goes. */
  scan(input: Omit<ScanCommandInput, 'TableName'>, units?: number): Promise<ScanCommandOutput>;
}

/**
 * Called right before each attempt of a write is sent, after its capacity is granted: throws to
 * stop the write (a retryable `TributaryError` waits and tries again). Exactly-once pipelines
 * check there that the shard's lease is still safely theirs, as late as a check can be.
 */
export type SendGuard = () => void;
