import { from, type Observable, type OperatorFunction } from 'rxjs';

/**
 * Runs a pipeline's operators over one batch and collects the outputs. Synchronous operators
 * finish inside `subscribe`, so the common case allocates no promise; asynchronous ones resolve later.
 * Completion of the inner observable is the proof that every record was transformed.
 */
export function runOperators(
  records: readonly unknown[],
  ops: readonly OperatorFunction<unknown, unknown>[],
): unknown[] | Promise<unknown[]> {
  let obs: Observable<unknown> = from(records);
  for (const op of ops) obs = op(obs);
  const out: unknown[] = [];
  let state = 'running' as 'running' | 'done' | 'failed';
  let error: unknown;
  let settle: ((v: unknown[]) => void) | undefined;
  let fail: ((e: unknown) => void) | undefined;
  obs.subscribe({
    next: (v) => out.push(v),
    error: (e) => {
      state = 'failed';
      error = e;
      fail?.(e);
    },
    complete: () => {
      state = 'done';
      settle?.(out);
    },
  });
  if (state === 'done') return out;
  if (state === 'failed') throw error;
  return new Promise<unknown[]>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
}
