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
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

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
  try {
    return utf8.decode(data);
  } catch {
    return undefined;
  }
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
