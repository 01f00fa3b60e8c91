import { systemClock } from './clock.js';
import { TributaryError } from './errors.js';

/** Parses a duration like `500ms`, `30s`, `5m`, `1h`, `1d` into milliseconds; throws `config.invalid` otherwise. */
export function parseDuration(d: string | number): number {
  if (typeof d === 'number') return d;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(d.trim());
  if (!m)
    throw new TributaryError('config.invalid', `invalid duration '${d}': use ms, s, m, h or d, e.g. '30s'`, {
      details: { duration: d },
    });
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return n * unit;
}

/** Resolves after `ms` on the system clock, or as soon as `signal` aborts. */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> => systemClock.sleep(ms, signal);
