import { utf8Text } from './decoder.js';

// Byte classes for the boundary scan: 0 ordinary, 1 quote, 2 opening bracket, 3 closing bracket, 4 comma.
const CLASS = new Uint8Array(256);
CLASS[0x22] = 1;
CLASS[0x7b] = 2;
CLASS[0x5b] = 2;
CLASS[0x7d] = 3;
CLASS[0x5d] = 3;
CLASS[0x2c] = 4;

/**
 * Whether `buf[start, end)` keeps to itself inside a JSON array: every string closed, brackets
 * never below zero and back to zero at the end, no comma outside brackets. Payloads that pass,
 * joined with commas into an array that parses, are exactly that array's elements, one each.
 */
function selfContained(buf: Uint8Array, start: number, end: number): boolean {
  let depth = 0;
  for (let k = start; k < end; k++) {
    const c = CLASS[buf[k]!]!;
    if (c === 0) continue;
    if (c === 1) {
      for (k++; k < end; k++) {
        const d = buf[k]!;
        if (d === 0x22) break;
        if (d === 0x5c) k++;
      }
      if (k >= end) return false;
    } else if (c === 2) depth++;
    else if (c === 3) {
      if (--depth < 0) return false;
    } else if (depth === 0) return false;
  }
  return depth === 0;
}

/** Pages up to this size reuse one buffer; a larger one gets its own. */
const KEEP_BYTES = 4 * 1024 * 1024;
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Parses a page of JSON payloads with one `JSON.parse` of `[p0,p1,...]`: the per-call cost of
 * the parser (and one string per payload) paid once per page instead of once per record.
 * Returns `undefined` unless every payload is valid UTF-8 holding exactly one JSON value; the
 * caller then decodes them one by one, which also says which payload is wrong and why.
 *
 * A payload can only be trusted inside the joined array if it cannot reach its neighbours, so each
 * is scanned first (`selfContained`): `1],[2` or `{"a":1},{"b":2}` would otherwise turn into two
 * elements and shift every value after them onto the wrong record.
 *
 * @example
 * ```ts
 * parseJsonPage([enc('{"a":1}'), enc('[2]')]); // [{ a: 1 }, [2]]
 * parseJsonPage([enc('{"a":1},{"b":2}')]);      // undefined: two values in one payload
 * ```
 */
export function parseJsonPage(payloads: readonly Uint8Array[]): unknown[] | undefined {
  let size = 2;
  for (const p of payloads) size += p.byteLength + 1;
  const buf =
    size <= scratch.length
      ? scratch
      : size <= KEEP_BYTES
        ? (scratch = Buffer.allocUnsafe(Math.min(KEEP_BYTES, size * 2)))
        : Buffer.allocUnsafe(size);
  let o = 0;
  buf[o++] = 0x5b;
  for (let i = 0; i < payloads.length; i++) {
    if (i > 0) buf[o++] = 0x2c;
    const p = payloads[i]!;
    const start = o;
    buf.set(p, o);
    o += p.byteLength;
    if (!selfContained(buf, start, o)) return undefined;
  }
  buf[o++] = 0x5d;
  const text = utf8Text(buf.subarray(0, o));
  if (text === undefined) return undefined;
  let values: unknown;
  try {
    values = JSON.parse(text);
  } catch {
    return undefined;
  }
  return Array.isArray(values) && values.length === payloads.length ? values : undefined;
}
