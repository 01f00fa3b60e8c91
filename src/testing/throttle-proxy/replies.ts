import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { crc32 } from './crc32.js';
import type { Block, TableMeter } from './table-meter.js';
import { endToEnd, type UpstreamResponse } from './upstream.js';
import type { Json } from './wire.js';

/** DynamoDB's messages, word for word. */
export const MESSAGES = {
  table:
    'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  index:
    'The level of configured provisioned throughput for one or more global secondary indexes of the table was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary indexes with the UpdateTable API.',
} as const;

const headersFor = (body: Buffer) => ({
  'content-type': 'application/x-amz-json-1.0',
  'content-length': String(body.length),
  'x-amz-crc32': String(crc32(body)),
  'x-amzn-requestid': randomUUID(),
  date: new Date().toUTCString(),
});

/** Answers with a JSON body of the proxy's own, headed as DynamoDB heads its answers. */
export function sendJson(res: ServerResponse, status: number, json: Json): void {
  const body = Buffer.from(JSON.stringify(json));
  res.writeHead(status, headersFor(body));
  res.end(body);
}

/** Passes the target's answer on as it came. */
export function relay(res: ServerResponse, up: UpstreamResponse): void {
  res.writeHead(up.status, endToEnd(up.headers));
  res.end(up.body);
}

/** Passes the target's answer on with a rewritten body: same headers, new length and CRC32. */
export function relayJson(res: ServerResponse, up: UpstreamResponse, json: Json): void {
  const body = Buffer.from(JSON.stringify(json));
  const { 'content-length': _l, 'x-amz-crc32': _c, ...rest } = endToEnd(up.headers);
  res.writeHead(up.status, { ...rest, 'content-length': String(body.length), 'x-amz-crc32': String(crc32(body)) });
  res.end(body);
}

/** The `ThrottlingReasons` entry DynamoDB adds: e.g. `TableWriteProvisionedThroughputExceeded` and the table's ARN. */
export function throttlingReason(meter: TableMeter, block: Block): { reason: string; resource: string } {
  const side = block.kind === 'write' ? 'Write' : 'Read';
  return block.index
    ? { reason: `Index${side}ProvisionedThroughputExceeded`, resource: `${meter.arn}/index/${block.index}` }
    : { reason: `Table${side}ProvisionedThroughputExceeded`, resource: meter.arn };
}

/** Answers HTTP 400 ProvisionedThroughputExceededException, as DynamoDB does over budget. */
export function throughputExceeded(res: ServerResponse, meter: TableMeter, block: Block): void {
  sendJson(res, 400, {
    __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message: block.index ? MESSAGES.index : MESSAGES.table,
    ThrottlingReasons: [throttlingReason(meter, block)],
  });
}

/** One entry of `CancellationReasons`: `{ Code: 'None' }` (no message) or a throughput reason. */
export type CancellationReason =
  { readonly Code: 'None' } | { readonly Code: 'ProvisionedThroughputExceeded'; readonly Message: string };

export const cancellationFor = (block: Block | undefined): CancellationReason =>
  block
    ? { Code: 'ProvisionedThroughputExceeded', Message: block.index ? MESSAGES.index : MESSAGES.table }
    : { Code: 'None' };

/** Answers HTTP 400 TransactionCanceledException with reasons in the order of the request's items. */
export function transactionCanceled(res: ServerResponse, reasons: readonly CancellationReason[]): void {
  sendJson(res, 400, {
    __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
    CancellationReasons: reasons,
    Message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
  });
}
