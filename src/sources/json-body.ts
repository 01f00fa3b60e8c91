type Handler = (args: unknown) => Promise<{ response: unknown; output: unknown }>;
/** The part of an SDK command's middleware stack this module uses. */
interface Stack {
  add(middleware: (next: Handler) => Handler, options: { step: 'deserialize'; priority: 'low'; name: string }): void;
}

interface WireResponse {
  statusCode?: number;
  body?: unknown;
}

async function readBody(body: unknown): Promise<string | undefined> {
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (!body || typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>)
    chunks.push(
      typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
  return Buffer.concat(chunks).toString('utf8');
}

/** Base64 to a plain Uint8Array (a view, not a Buffer), as the SDK gives blobs. */
export function bytesOf(b64: string): Uint8Array {
  const buf = Buffer.from(b64, 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Removes members that are null, as the SDK leaves an absent member out rather than null. */
export function dropNulls<T extends object>(o: T): T {
  for (const k of Object.keys(o))
    if ((o as Record<string, unknown>)[k] === null) delete (o as Record<string, unknown>)[k];
  return o;
}

/** Epoch seconds, as the JSON protocols send timestamps, to a Date (as the SDK gives them). */
export const dateOf = (v: unknown): unknown => (typeof v === 'number' ? new Date(v * 1000) : v);

/**
 * Sends an SDK command of a JSON protocol (DynamoDB Streams, Kinesis) and parses a successful
 * answer's body with `JSON.parse` and `fromWire`, instead of the SDK's shape-by-shape
 * deserializer: for GetRecords that one costs ~20 µs of CPU per record, more than everything else
 * a drain does (bench/tools/profile-stream-read.ts). The request, signing, retries and error
 * answers stay the SDK's: only a 200 answer's body is taken over, and the SDK then deserializes an
 * empty object. Without a body to take (an unexpected handler), the SDK's own output is used.
 *
 * @example
 * ```ts
 * const out = await sendTakingJsonBody(new GetRecordsCommand(input), (c) => client.send(c), (json) => json as Page, (o) => o);
 * ```
 */
export async function sendTakingJsonBody<C extends { readonly middlewareStack: object }, O, P>(
  command: C,
  send: (command: C) => Promise<O>,
  fromWire: (json: unknown, text: string) => P,
  fromSdk: (out: O) => P,
): Promise<P> {
  let page: P | undefined;
  let taken = false;
  (command.middlewareStack as Stack).add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as WireResponse;
      if (response?.statusCode !== 200) return result;
      const text = await readBody(response.body);
      if (text === undefined) return result;
      page = fromWire(JSON.parse(text), text);
      taken = true;
      // A fresh one each time: the SDK adopts the body it collects (it changes its prototype).
      response.body = new Uint8Array([0x7b, 0x7d]);
      return result;
    },
    // Innermost in the deserialize step: sees the raw answer before the SDK's deserializer does.
    { step: 'deserialize', priority: 'low', name: 'tributaryJsonBody' },
  );
  const out = await send(command);
  return taken ? page! : fromSdk(out);
}
