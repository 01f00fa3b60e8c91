import type { StandardSchemaV1 } from '@standard-schema/spec';
import { settleAll, utf8Text, type DecodeResult, type Decoder } from './decoder.js';
import { parseJsonPage } from './json-page.js';

const NOT_UTF8: DecodeResult<never> = { ok: false, code: 'decode.binary', reason: 'payload is not valid UTF-8' };

function formatIssues(issues: ReadonlyArray<StandardSchemaV1.Issue>): string {
  return issues
    .map((issue) => {
      const path = (issue.path ?? [])
        .map((seg) => String(typeof seg === 'object' && seg !== null ? seg.key : seg))
        .join('.');
      return path === '' ? issue.message : `${path}: ${issue.message}`;
    })
    .join('; ');
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function isPromiseLike<V>(v: V | PromiseLike<V>): v is PromiseLike<V> {
  return typeof (v as { then?: unknown }).then === 'function';
}

function fromResult<T>(result: StandardSchemaV1.Result<T>): DecodeResult<T> {
  if (result.issues) return { ok: false, code: 'decode.schema', reason: formatIssues(result.issues) };
  return { ok: true, value: result.value };
}

function schemaThrew(e: unknown): DecodeResult<never> {
  return { ok: false, code: 'decode.schema', reason: `schema validation threw: ${message(e)}` };
}

function validate<T>(schema: StandardSchemaV1<unknown, T>, value: unknown): DecodeResult<T> | Promise<DecodeResult<T>> {
  let result: StandardSchemaV1.Result<T> | Promise<StandardSchemaV1.Result<T>>;
  try {
    result = schema['~standard'].validate(value);
  } catch (e) {
    return schemaThrew(e);
  }
  return isPromiseLike(result) ? Promise.resolve(result).then(fromResult, schemaThrew) : fromResult(result);
}

/**
 * Decodes UTF-8 JSON payloads, validating them with a Standard Schema (zod, valibot, arktype, ...)
 * when one is given. Invalid UTF-8 is `decode.binary`, unparsable JSON `decode.json`, and schema
 * issues `decode.schema` with a reason like `items.0.qty: Expected number`.
 *
 * @example
 * ```ts
 * const orders = json(z.object({ id: z.string(), qty: z.number() }));
 * const r = await orders.decode(new TextEncoder().encode('{"id":"o1","qty":2}'));
 * // r: { ok: true, value: { id: 'o1', qty: 2 } }
 * ```
 */
export function json<T = unknown>(schema?: StandardSchemaV1<unknown, T>): Decoder<T> {
  const decode = (data: Uint8Array): DecodeResult<T> | Promise<DecodeResult<T>> => {
    const text = utf8Text(data);
    if (text === undefined) return NOT_UTF8;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      return { ok: false, code: 'decode.json', reason: message(e) };
    }
    return schema ? validate(schema, value) : { ok: true, value: value as T };
  };
  return {
    name: schema ? `json(${schema['~standard'].vendor})` : 'json',
    decode,
    // One parse for a whole page; a page with any bad payload is decoded one by one instead.
    decodeAll(data) {
      const values = data.length > 1 ? parseJsonPage(data) : undefined;
      if (!values) return settleAll(data.map(decode));
      if (!schema) return values.map((value) => ({ ok: true, value: value as T }));
      return settleAll(values.map((value) => validate(schema, value)));
    },
  };
}

/**
 * Same as {@link json} with a schema: JSON payloads validated by any Standard Schema.
 *
 * @example
 * ```ts
 * const clicks = standardSchema(v.object({ url: v.string() })); // valibot, zod, arktype, ...
 * const r = await clicks.decode(payload);
 * ```
 */
export function standardSchema<T>(schema: StandardSchemaV1<unknown, T>): Decoder<T> {
  return json(schema);
}

/**
 * Decodes payloads as UTF-8 text; invalid UTF-8 is `decode.binary`.
 *
 * @example
 * ```ts
 * text().decode(Uint8Array.of(0x68, 0x69)); // { ok: true, value: 'hi' }
 * ```
 */
export function text(): Decoder<string> {
  return {
    name: 'text',
    decode(data) {
      const value = utf8Text(data);
      return value === undefined ? NOT_UTF8 : { ok: true, value };
    },
  };
}

/**
 * Passes payloads through as raw bytes; never rejects.
 *
 * @example
 * ```ts
 * bytes().decode(Uint8Array.of(1, 2)); // { ok: true, value: Uint8Array [1, 2] }
 * ```
 */
export function bytes(): Decoder<Uint8Array> {
  return { name: 'bytes', decode: (data) => ({ ok: true, value: data }) };
}
