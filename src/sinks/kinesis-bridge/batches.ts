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
