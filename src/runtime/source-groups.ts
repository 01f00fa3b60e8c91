import { TributaryError } from '../core/errors.js';
import type { PipelineDef } from '../core/pipeline.js';
import type { BoundSource, ShardInfo, StreamSource } from '../core/source.js';
import type { PipelineExecutor } from './pipeline-executor.js';

/** One source and every pipeline it feeds: one reader per shard serves them all. */
export interface SourceGroup {
  readonly source: StreamSource;
  readonly pipelines: PipelineDef[];
  /** Set by the runner's start(). */
  bound?: BoundSource;
  /** One per pipeline, in the order of `pipelines`; set by the runner's start(). */
  executors?: PipelineExecutor[];
  /** The shards the last discovery listed. */
  shards: readonly ShardInfo[];
  /** clock.now() of the last discovery; -Infinity before the first. */
  lastDiscovery: number;
}

/**
 * Groups pipelines by source name. DynamoDB Streams throttles beyond 2 readers per shard, so
 * pipelines on one source share its readers; two different sources under one name are an error.
 */
export function groupBySource(pipelines: readonly PipelineDef[]): Map<string, SourceGroup> {
  const groups = new Map<string, SourceGroup>();
  for (const p of pipelines) {
    const g = groups.get(p.source.name);
    if (g && g.source !== p.source && g.source.kind !== p.source.kind)
      throw new TributaryError('config.invalid', `two different sources are named '${p.source.name}'`);
    if (g) g.pipelines.push(p);
    else groups.set(p.source.name, { source: p.source, pipelines: [p], shards: [], lastDiscovery: -Infinity });
  }
  return groups;
}
