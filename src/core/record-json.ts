import { NumberValue } from './numbers.js';

/**
 * JSON of a record for a dead letter or a log; never throws (cycles, BigInt). Binary as base64, numbers
 * (bigint, `NumberValue`) as their decimal text.
 *
 * @example
 * ```ts
 * recordJson({ n: 12n, b: Uint8Array.of(1, 2), d: NumberValue.from('0.1') }); // '{"n":"12","b":"AQI=","d":"0.1"}'
 * ```
 */
export function recordJson(r: unknown): string {
  try {
    return JSON.stringify(r, (_k, v: unknown) =>
      typeof v === 'bigint' || v instanceof NumberValue
        ? v.toString()
        : v instanceof Uint8Array
          ? Buffer.from(v).toString('base64')
          : v,
    );
  } catch (e) {
    return `unserializable record: ${(e as Error).message}`;
  }
}
