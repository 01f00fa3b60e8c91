import type { DeadLetterStatus } from './types.js';

/** Entries kept: enough to see a pattern, few enough to show on one screen. */
const KEEP = 20;

/**
 * The latest dead letters a worker wrote, newest first, for the status page: the table holds
 * them all (`tributary dead-letters list`), this keeps the last few in memory without reading it.
 *
 * @example
 * ```ts
 * const recent = new RecentDeadLetters();
 * deadLetters.watch((letters) => recent.add(letters));
 * recent.list(); // [{ at, pipeline, stage, code, message, position }]
 * ```
 */
export class RecentDeadLetters {
  private readonly entries: DeadLetterStatus[] = [];

  add(
    letters: readonly {
      pipeline: string;
      stage: string;
      code: string;
      message: string;
      position: { source: string; shardId: string; sequenceNumber: string };
    }[],
    at = new Date().toISOString(),
  ): void {
    for (const l of letters)
      this.entries.unshift({
        at,
        pipeline: l.pipeline,
        stage: l.stage,
        code: l.code,
        // A message can be a stack's worth: the page shows a line.
        message: l.message.length > 300 ? `${l.message.slice(0, 300)}…` : l.message,
        position: `${l.position.source}/${l.position.shardId}/${l.position.sequenceNumber}`,
      });
    if (this.entries.length > KEEP) this.entries.length = KEEP;
  }

  list(): readonly DeadLetterStatus[] {
    return [...this.entries];
  }
}
