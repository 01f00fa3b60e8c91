import {
  Agent,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { Json } from './wire.js';

/** A buffered answer of the target. */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

// Hop-by-hop headers belong to one connection, not to the message; `expect` and
// `accept-encoding` are dropped so that the target neither waits for a 100-continue the proxy
// already answered nor compresses a body the proxy has to read.
const HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

/** Headers to pass on, without hop-by-hop ones. */
export function endToEnd(h: IncomingHttpHeaders, drop: readonly string[] = []): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k) && !drop.includes(k)) out[k] = v;
  return out;
}

/** The target behind the proxy, reached over one keep-alive agent. */
export class Upstream {
  private readonly url: URL;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });

  constructor(target: string) {
    this.url = new URL(target);
  }

  /** Streams a request to the target and its answer back, both untouched. `body` when the request was already read. */
  pipe(req: IncomingMessage, res: ServerResponse, body?: Buffer): void {
    const up = request(this.url, {
      method: req.method,
      path: req.url,
      headers: endToEnd(req.headers),
      agent: this.agent,
    });
    up.on('response', (answer) => {
      res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers));
      answer.pipe(res);
    });
    up.on('error', (e) => failed(res, e));
    if (body) up.end(body);
    else req.pipe(up);
  }

  /** Sends the client's request with `body` (which may have been rewritten) and reads the whole answer. */
  send(req: IncomingMessage, body: Buffer): Promise<UpstreamResponse> {
    const headers = { ...endToEnd(req.headers, ['accept-encoding']), 'content-length': String(body.length) };
    return this.exchange({ method: req.method ?? 'POST', path: req.url ?? '/', headers }, body);
  }

  /** A call of the proxy's own (DescribeTable), signed with a client's `authorization`: DynamoDB Local keeps tables per access key and region. */
  call(operation: string, input: Json, authorization: string | undefined): Promise<UpstreamResponse> {
    const body = Buffer.from(JSON.stringify(input));
    const headers = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${operation}`,
      'content-length': String(body.length),
      authorization:
        authorization ??
        'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
    };
    return this.exchange({ method: 'POST', path: '/', headers }, body);
  }

  private exchange(
    opts: { method: string; path: string; headers: OutgoingHttpHeaders },
    body: Buffer,
  ): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const up = request(this.url, { ...opts, agent: this.agent }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () =>
          resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks) }),
        );
        answer.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });
  }

  destroy(): void {
    this.agent.destroy();
  }
}

/** Answers 502 when the target cannot be reached, or cuts the connection if an answer had started. */
export function failed(res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.destroy(e instanceof Error ? e : undefined);
    return;
  }
  const body = JSON.stringify({
    __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
    message: `throttle proxy: target unreachable: ${(e as Error).message}`,
  });
  res.writeHead(502, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
