import type { SourceEvent } from '../core/source.js';
import type { Logger } from '../observe/log.js';
import type { BackfillProgress } from '../observe/backfill-progress.js';
import type { Metrics } from '../observe/metrics.js';

/**
 * Turns what sources report (trimmed data, expired iterators, throttled reads) into metrics and
 * log lines labelled by source and shard, the same for every source.
 *
 * @example
 * ```ts
 * const env = { clients, tableName, onEvent: sourceEventReporter(metrics, log) };
 * await source.bind(env); // its readers' throttled GetRecords count in tributary_read_throttled_total
 * ```
 */
export function sourceEventReporter(
  metrics: Metrics,
  log: Logger,
  backfill?: BackfillProgress,
): (e: SourceEvent) => void {
  return (e) => {
    const labels = { source: e.source, shard: e.shardId };
    switch (e.type) {
      case 'trimmedData':
        metrics.inc('tributary_trimmed_data_total', labels);
        log.error('shard trimmed past its checkpoint: records between the checkpoint and the trim horizon are lost', {
          code: 'source.trimmedData',
          ...labels,
          checkpoint: e.checkpoint,
        });
        break;
      case 'iteratorExpired':
        metrics.inc('tributary_iterator_expired_total', labels);
        break;
      case 'throttled':
        metrics.inc('tributary_read_throttled_total', labels);
        break;
      case 'reconciled':
        metrics.inc('tributary_backfill_reconciled_total', labels, e.count);
        break;
      case 'backfill':
        backfill?.report(e);
        break;
      default:
        break;
    }
  };
}
