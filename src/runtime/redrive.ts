import type { Batch } from '../core/batch.js';
import type { Clients } from '../core/clients.js';
import { openOperators } from '../core/operator.js';
import type { AppDef, PipelineDef } from '../core/pipeline.js';
import type { SourceRecord } from '../core/records.js';
import type { SinkEnv } from '../core/sink.js';
import type { Logger } from '../observe/log.js';
import { Metrics } from '../observe/metrics.js';
import { markRedriven, type StoredDeadLetter } from '../sinks/dead-letter-entries.js';
import { deadLetterId, DeadLetterTable, type DeadLetter } from '../sinks/dead-letters.js';
import { DynamoTableIO } from '../sinks/table-io.js';
import { PipelineExecutor } from './pipeline-executor.js';

/** What a redrive did with one entry. */
export interface RedriveOutcome {
  readonly pipeline: string;
  readonly id: string;
  /** `applied`: the record went through its pipeline and the entry is marked; `failed`: it failed again, the entry holds the new reason; `kept`: it cannot be redriven (see `why`). */
  readonly result: 'applied' | 'failed' | 'kept';
  /** The new error code (failed). */
  readonly code?: string;
  /** The new reason (failed) or why the entry cannot be redriven (kept). */
  readonly message?: string;
}

/** What a redrive needs. */
export interface RedriveDeps {
  readonly app: AppDef;
  readonly clients: Clients;
  /** Physical name of a logical table (environment prefix). */
  readonly tableName: (logical: string) => string;
  readonly log: Logger;
}

/** Records a shard's redrive hands the executor at once: bisection of a failing batch stays short. */
const BATCH = 100;

/**
 * Why an entry cannot be redriven, or undefined when it can. Records rejected by decoding never
 * reached a pipeline; a minimal or truncated entry does not hold the whole record.
 *
 * @example
 * ```ts
 * redriveBlocker(app, entry); // "the record was truncated to fit in the entry"
 * ```
 */
export function redriveBlocker(app: AppDef, e: StoredDeadLetter): string | undefined {
  if (e.redrivenAt !== undefined) return `already redriven at ${e.redrivenAt}`;
  if (e.pipeline.startsWith('source:'))
    return 'rejected by its source before any pipeline (decoding): fix the producer; the raw payload is kept';
  if (!app.pipelines.some((p) => p.name === e.pipeline)) return `pipeline '${e.pipeline}' is not in the app`;
  if (e.minimal || typeof e.record !== 'string')
    return `minimal entry: the record was not stored${e.entryError ? ` (${e.entryError})` : ''}`;
  if (e.truncated)
    return `the record was truncated to fit in the entry${e.recordBytes === undefined ? '' : ` (${e.recordBytes} bytes, sha256 ${e.recordSha256 ?? '?'})`}`;
  if (reviveRecord(e.record, e.position) === undefined) return 'the record is not JSON (truncated or unserializable)';
  return undefined;
}

/**
 * Turns an entry's record (written by `recordJson`) back into a record its pipeline accepts: the
 * JSON object, with the times records carry (`approximateCreationTime`, `arrivalTime`) as Dates
 * again and the entry's position. Values JSON cannot hold were written as text and stay text:
 * binary attributes as base64, numbers that do not fit a JS number (bigint, `NumberValue`) as
 * their decimal digits.
 */
export function reviveRecord(json: string, position: SourceRecord['position']): SourceRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const r: Record<string, unknown> = { ...(parsed as Record<string, unknown>), position };
  for (const k of ['approximateCreationTime', 'arrivalTime'])
    if (typeof r[k] === 'string' && !Number.isNaN(Date.parse(r[k]))) r[k] = new Date(r[k]);
  return r as unknown as SourceRecord;
}

/**
 * Re-applies dead-lettered records through their pipelines (operators and sinks, by the runner's
 * {@link PipelineExecutor}, so retries, bisection and dead-lettering are the runner's own). An
 * entry whose record applies is marked `redrivenAt` and kept as history; one that fails again is
 * rewritten by the executor with its new reason; one that cannot be redriven is left as it is.
 * Records are applied in position order per shard. Fail-fast, the dead-letter budget and
 * `maxRecordAgeMs` are off during a redrive: each entry gets an outcome.
 *
 * @example
 * ```ts
 * const outcomes = await redrive({ app, clients, tableName: (n) => n, log }, await readDeadLetters(ddb, table));
 * ```
 */
export async function redrive(deps: RedriveDeps, entries: readonly StoredDeadLetter[]): Promise<RedriveOutcome[]> {
  const { app, clients } = deps;
  const outcomes: RedriveOutcome[] = [];
  const todo = new Map<PipelineDef, StoredDeadLetter[]>();
  for (const e of entries) {
    const why = redriveBlocker(app, e);
    if (why !== undefined) {
      outcomes.push({ pipeline: e.pipeline, id: e.id, result: 'kept', message: why });
      continue;
    }
    const p = app.pipelines.find((q) => q.name === e.pipeline)!;
    (todo.get(p) ?? todo.set(p, []).get(p)!).push(e);
  }
  if (todo.size === 0) return outcomes;

  const table = deps.tableName(app.deadLetters.tableName);
  const failed = new Map<string, DeadLetter>();
  const letters = new RecordingDeadLetters(clients.dynamodb, table, failed);
  const pipelines = [...todo.keys()];
  const sinks = new Set(pipelines.flatMap((p) => p.sinks));
  const env: SinkEnv = {
    clients,
    tableName: deps.tableName,
    io: (t) => new DynamoTableIO(clients.dynamodbData ?? clients.dynamodb, t),
    maxBatchesInFlight: 1,
  };
  await Promise.all([...sinks].map((s) => s.open?.(env)));
  try {
    await openOperators(pipelines, env);
    const metrics = new Metrics();
    for (const [p, list] of todo) {
      const executor = new PipelineExecutor(
        // Each entry must get an outcome, and a redriven record is old by nature: no fail-fast, no
        // budget stopping the redrive, no age limit dead-lettering it again at its first transient failure.
        { ...p, options: { ...p.options, failFast: false, deadLetterBudget: undefined, maxRecordAgeMs: undefined } },
        { app: app.name, deadLetters: letters, metrics, log: deps.log },
      );
      let seq = 0;
      for (const shard of byShard(list))
        for (let i = 0; i < shard.length; i += BATCH) {
          const chunk = shard.slice(i, i + BATCH);
          const first = chunk[0]!.position;
          const batch: Batch = {
            source: first.source,
            shardId: first.shardId,
            seq: seq++,
            records: chunk.map((e) => reviveRecord(e.record!, e.position)!),
            rejected: [],
            checkpoint: undefined,
          };
          await executor.process(batch);
          for (const e of chunk) outcomes.push(await settle(deps, table, e, failed));
        }
    }
  } finally {
    await Promise.all(
      [...sinks].map(async (s) => {
        await s.flush?.();
        await s.close?.();
      }),
    );
  }
  return outcomes;
}

/** An entry's outcome once its batch is processed: marked if it applied, else its new reason. */
async function settle(
  deps: RedriveDeps,
  table: string,
  e: StoredDeadLetter,
  failed: ReadonlyMap<string, DeadLetter>,
): Promise<RedriveOutcome> {
  const again = failed.get(letterKey(e.pipeline, e.position));
  if (again) return { pipeline: e.pipeline, id: e.id, result: 'failed', code: again.code, message: again.message };
  await markRedriven(deps.clients.dynamodb, table, e, new Date());
  return { pipeline: e.pipeline, id: e.id, result: 'applied' };
}

const letterKey = (pipeline: string, p: DeadLetter['position']) => `${pipeline}|${deadLetterId(p)}`;

/** Entries grouped by shard, each group in the order read (position order). */
function byShard(entries: readonly StoredDeadLetter[]): StoredDeadLetter[][] {
  const groups = new Map<string, StoredDeadLetter[]>();
  for (const e of entries) {
    const k = `${e.position.source}|${e.position.shardId}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(e);
  }
  return [...groups.values()];
}

/** The dead-letter table, noting which records the executor sends back to it during a redrive. */
class RecordingDeadLetters extends DeadLetterTable {
  constructor(
    ddb: Clients['dynamodb'],
    table: string,
    private readonly failed: Map<string, DeadLetter>,
  ) {
    super(ddb, table);
  }

  override async write(letters: readonly DeadLetter[]): Promise<void> {
    for (const l of letters) this.failed.set(letterKey(l.pipeline, l.position), l);
    await super.write(letters);
  }
}
