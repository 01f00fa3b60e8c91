import { TributaryError } from '../../core/errors.js';

/**
 * A duration or count option, checked: a whole number within `[min, max]`; throws
 * `config.invalid` naming the option otherwise.
 */
export function wholeNumber(what: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new TributaryError(
      'config.invalid',
      `${what} must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}, got ${String(value)}`,
      { details: { option: what, value: String(value) } },
    );
  return value;
}
