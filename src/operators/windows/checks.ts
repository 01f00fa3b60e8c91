import { TributaryError } from '../../core/errors.js';

/**
 * A duration or count option, checked: a whole number within `[min, Number.MAX_SAFE_INTEGER]`;
 * throws `config.invalid` naming the option otherwise.
 */
export function wholeNumber(what: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min)
    throw new TributaryError('config.invalid', `${what} must be a whole number >= ${min}, got ${String(value)}`, {
      details: { option: what, value: String(value) },
    });
  return value;
}
