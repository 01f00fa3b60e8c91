import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every depth, so that equal values give equal text whatever the
 * order their keys were built in. Follows `JSON.stringify` otherwise (Dates as ISO strings through
 * `toJSON`, `undefined` members left out); BigInts become decimal strings, bytes base64, Sets
 * sorted arrays and Maps objects.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: [true, { d: null, c: 'x' }] }); // '{"a":[true,{"c":"x","d":null}],"b":1}'
 * ```
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

function write(v: unknown): string | undefined {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? JSON.stringify(v) : 'null';
    case 'bigint':
      return JSON.stringify(v.toString());
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  const o = v as object;
  if (o instanceof Uint8Array)
    return JSON.stringify(Buffer.from(o.buffer, o.byteOffset, o.byteLength).toString('base64'));
  if (typeof (o as { toJSON?: unknown }).toJSON === 'function') return write((o as { toJSON(): unknown }).toJSON());
  if (Array.isArray(o)) return `[${o.map((e) => write(e) ?? 'null').join(',')}]`;
  if (o instanceof Set)
    return `[${[...o]
      .map((e) => write(e) ?? 'null')
      .sort()
      .join(',')}]`;
  const entries: [string, unknown][] =
    o instanceof Map ? [...o.entries()].map(([k, e]) => [String(k), e]) : Object.entries(o);
  const members = entries
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([k, e]) => {
      const w = write(e);
      return w === undefined ? [] : [`${JSON.stringify(k)}:${w}`];
    });
  return `{${members.join(',')}}`;
}

/**
 * The default id of an event: SHA-256 (hex) of the canonical JSON of its payload. The same payload
 * stored twice gets the same id, and so the same key: it is stored once.
 *
 * @example
 * ```ts
 * defaultEventId({ user: 'u1', at: 1767225600000 }) === defaultEventId({ at: 1767225600000, user: 'u1' }); // true
 * ```
 */
export function defaultEventId(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload), 'utf8').digest('hex');
}
