import { TributaryError } from '../../core/errors.js';

/**
 * An environment prefix for table names: `dev_` turns `orders` into `dev_orders`. Prefixes must
 * end with `_`, `-` or `.` so that one environment's prefix is never a prefix of another's names
 * by accident (`dev` would also match `devices`).
 *
 * @example
 * ```ts
 * const p = tablePrefix('staging_');
 * p.physical('orders'); // 'staging_orders'
 * p.owns('staging_orders'); // true
 * ```
 */
export interface TablePrefix {
  readonly prefix: string;
  physical(logical: string): string;
  /** True when a physical name lies inside this prefix. */
  owns(physical: string): boolean;
}

export function tablePrefix(prefix = ''): TablePrefix {
  if (prefix !== '' && !/^[A-Za-z0-9_.-]+[_.-]$/.test(prefix)) {
    throw new TributaryError(
      'config.invalid',
      `table prefix '${prefix}' must be letters, digits, _ . - and end with _, - or .`,
      { details: { prefix } },
    );
  }
  return {
    prefix,
    physical: (logical) => `${prefix}${logical}`,
    owns: (physical) => prefix !== '' && physical.startsWith(prefix) && physical.length > prefix.length,
  };
}
