import { isAscii, isUtf8 } from 'node:buffer';
import type { Rejected } from '../../core/batch.js';
import { TributaryError } from '../../core/errors.js';
import type { Position } from '../../core/position.js';

/**
 * What a decoder produced for one payload: the typed value, or why the payload was rejected.
 *
 * @example
 * ```ts
 * const r = await json<Order>().decode(bytes);
 * if (!r.ok) console.warn(r.code, r.reason);
 * ```
 */
export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: 'decode.json' | 'decode.schema' | 'decode.binary'; readonly reason: string };

/**
 * Turns a record's payload bytes into a typed value. `decode` never throws; it may return a
 * Promise when validation is asynchronous.
 *
 * @example
 * ```ts
 * const upper: Decoder<string> = {
 *   name: 'upper',
 *   decode: (data) => ({ ok: true, value: new TextDecoder().decode(data).toUpperCase() }),
 * };
 * ```
 */
export interface Decoder<T> {
  readonly name: string;
  decode(data: Uint8Array): DecodeResult<T> | Promise<DecodeResult<T>>;
  /**
   * Optional: decodes a page of payloads (a GetRecords response) at once, with exactly the result
   * `decode` gives for each payload, in order. Sources use it when present (see {@link decodePage}).
   */
  decodeAll?(data: readonly Uint8Array[]): DecodeResult<T>[] | Promise<DecodeResult<T>[]>;
}

/**
 * Decodes a page of payloads: with the decoder's `decodeAll` when it has one, otherwise one by one.
 * Stays synchronous unless a result is a Promise (asynchronous schema validation).
 *
 * @example
 * ```ts
 * const results = decodePage(json<Order>(), payloads); // DecodeResult<Order>[], in order
 * ```
 */
export function decodePage<T>(
  decoder: Decoder<T>,
  data: readonly Uint8Array[],
): DecodeResult<T>[] | Promise<DecodeResult<T>[]> {
  if (!decoder.decodeAll) return settleAll(data.map((d) => decoder.decode(d)));
  const results = decoder.decodeAll(data);
  return results instanceof Promise ? results.then((r) => oneEach(decoder, data, r)) : oneEach(decoder, data, results);
}

/** A decodeAll that loses or invents results would lose records or shift them: refuse it loudly. */
function oneEach<T>(decoder: Decoder<T>, data: readonly Uint8Array[], results: DecodeResult<T>[]): DecodeResult<T>[] {
  if (results.length !== data.length) {
    throw new TributaryError(
      'config.invalid',
      `decoder '${decoder.name}': decodeAll gave ${results.length} results for ${data.length} payloads`,
      { details: { decoder: decoder.name } },
    );
  }
  return results;
}

/** The results as an array, or a Promise of one if any of them is still pending. */
export function settleAll<T>(
  results: (DecodeResult<T> | Promise<DecodeResult<T>>)[],
): DecodeResult<T>[] | Promise<DecodeResult<T>[]> {
  for (const r of results) if (r instanceof Promise) return Promise.all(results);
  return results as DecodeResult<T>[];
}

/**
 * Strict UTF-8 decoding: `undefined` when `data` is not valid UTF-8 (a leading BOM is dropped).
 *
 * @example
 * ```ts
 * utf8Text(Uint8Array.of(0x68, 0x69)); // 'hi'
 * utf8Text(Uint8Array.of(0xc3));       // undefined
 * ```
 */
export function utf8Text(data: Uint8Array): string | undefined {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // Most payloads are ASCII: a one-byte string, copied without UTF-8 decoding (and faster to JSON.parse).
  if (isAscii(buf)) return buf.toString('latin1');
  if (!isUtf8(buf)) return undefined;
  const text = buf.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * The dead-letter entry of a payload a decoder (or de-aggregation) refused: where it was, why, and
 * the payload itself as text.
 *
 * @example
 * ```ts
 * if (!res.ok) rejected.push(rejection(position, res, payload));
 * ```
 */
export function rejection(
  position: Position,
  failure: { readonly code: string; readonly reason: string },
  payload: Uint8Array,
): Rejected {
  return { position, code: failure.code, reason: failure.reason, raw: rawText(payload) };
}

/**
 * A payload as text for dead letters and logs: the UTF-8 text when valid, otherwise `base64:` + base64.
 *
 * @example
 * ```ts
 * rawText(new TextEncoder().encode('{"a":1}')); // '{"a":1}'
 * rawText(Uint8Array.of(0xff, 0xfe));           // 'base64://4='
 * ```
 */
export function rawText(data: Uint8Array): string {
  const text = utf8Text(data);
  if (text !== undefined) return text;
  return 'base64:' + Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}
