/** PutRecords limits: records per call, bytes per call, bytes per record (data plus partition key). */
export const PUT_RECORDS_MAX_COUNT = 500;
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;
export const KINESIS_RECORD_MAX_BYTES = 1024 * 1024;

/** Bytes a PutRecords entry counts against the limits: its data plus its partition key (UTF-8). */
export const entryBytes = (e: { readonly data: Uint8Array; readonly partitionKey: string }): number =>
  e.data.byteLength + Buffer.byteLength(e.partitionKey, 'utf8');

/**
 * Splits entries, in order, into PutRecords calls of at most 500 records and 5 MiB. Entries must
 * each fit in one record (1 MiB); check with {@link entryBytes} first.
 *
 * @example
 * ```ts
 * for (const chunk of putRecordsChunks(entries)) await kinesis.send(new PutRecordsCommand({ StreamName, Records: chunk.map(toEntry) }));
 * ```
 */
export function putRecordsChunks<E extends { readonly data: Uint8Array; readonly partitionKey: string }>(
  entries: readonly E[],
  maxCount = PUT_RECORDS_MAX_COUNT,
  maxBytes = PUT_RECORDS_MAX_BYTES,
): E[][] {
  const chunks: E[][] = [];
  let current: E[] = [];
  let bytes = 0;
  for (const e of entries) {
    const n = entryBytes(e);
    if (current.length > 0 && (current.length >= maxCount || bytes + n > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Splits entries into PutRecords calls that may be sent at once: every entry of one partition key
 * goes to the same call, in order, so the calls cannot reorder the changes of an item (Kinesis
 * keeps the order of a call's records per shard when they all succeed, and the retries of a call
 * go out before its key's next change). Undefined when one key's entries do not fit in one call:
 * then send {@link putRecordsChunks} one after another.
 *
 * Sending the calls of a batch together, not one after another, keeps a batch in flight for one
 * round trip rather than one per 500 changes, so the checkpoint after it comes sooner and a crash
 * re-applies less.
 *
 * @example
 * ```ts
 * await Promise.all((keyedChunks(entries) ?? []).map((chunk) => putAll(chunk)));
 * ```
 */
export function keyedChunks<E extends { readonly data: Uint8Array; readonly partitionKey: string }>(
  entries: readonly E[],
  maxCount = PUT_RECORDS_MAX_COUNT,
  maxBytes = PUT_RECORDS_MAX_BYTES,
): E[][] | undefined {
  const groups = new Map<string, { entries: E[]; bytes: number }>();
  for (const e of entries) {
    const g = groups.get(e.partitionKey) ?? groups.set(e.partitionKey, { entries: [], bytes: 0 }).get(e.partitionKey)!;
    g.entries.push(e);
    g.bytes += entryBytes(e);
  }
  const chunks: E[][] = [];
  let current: E[] = [];
  let bytes = 0;
  for (const g of groups.values()) {
    if (g.entries.length > maxCount || g.bytes > maxBytes) return undefined;
    if (current.length > 0 && (current.length + g.entries.length > maxCount || bytes + g.bytes > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(...g.entries);
    bytes += g.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
