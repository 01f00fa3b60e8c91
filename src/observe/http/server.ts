import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TributaryError } from '../../core/errors.js';
import type { Logger } from '../log.js';
import type { StatusSource } from '../status/types.js';
import { STATUS_PAGE } from './page.js';
import { serveTapFeed } from '../../taps/http-feed.js';
import { tapViewPage } from '../../taps/view-page.js';

/** How the HTTP server is set up. */
export interface HttpServerOptions {
  /** Port to listen on; 0 picks a free one (read it from the result's `port`). */
  readonly port: number;
  /** Address to listen on. Default `0.0.0.0`. */
  readonly host?: string;
  /** How often `/events` pushes a status to each open page. Default 2,000 ms. */
  readonly pushMs?: number;
  readonly log?: Logger;
}

/** A running server: its port, and `close()` that ends open event streams and stops listening. */
export interface HttpServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
/** The pages run their own inline script and style only, and talk to this server alone. */
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
};

/**
 * Serves a runner over HTTP, from the process itself (no file or CDN is loaded):
 * - `GET /livez`: 200 while the event loop turns and lease renewals run, else 503; never fails
 *   because AWS throttles or is down (a restart would only lose the leases).
 * - `GET /readyz`: 200 once started, while the lease table answers and no outage has lasted
 *   longer than `readyOutageMs`, else 503.
 * - `GET /metrics`: the prom-client registry, in Prometheus text.
 * - `GET /status.json`: `runner.status()`.
 * - `GET /`: the live status page; `GET /events`: the status as Server-Sent Events, one per push.
 * - `GET /taps`: the app's taps; `GET /taps/:name`: a tap's events (SSE with resume tokens, or
 *   `?format=ndjson`); `GET /taps/:name/view`: its live chart.
 *
 * Health answers carry every check as JSON, so a failing probe says why.
 *
 * @example
 * ```ts
 * const server = await startHttpServer(runner, { port: 9400 });
 * // curl localhost:9400/readyz → {"ready":true,"checks":{...}}
 * await server.close();
 * ```
 */
export async function startHttpServer(source: StatusSource, opts: HttpServerOptions): Promise<HttpServer> {
  const streams = new Set<ServerResponse>();
  const pushMs = opts.pushMs ?? 2_000;
  const server: Server = createServer((req, res) => {
    void route(source, req, res, streams, pushMs).catch((e: unknown) => {
      opts.log?.warn('HTTP request failed', { url: req.url, error: e });
      if (!res.headersSent) res.writeHead(500, { 'content-type': JSON_TYPE });
      res.end(JSON.stringify({ error: (e as Error).message }));
    });
  });
  // Probes and scrapers keep connections open; none of them may hold the process at exit.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new TributaryError(
          'config.invalid',
          e.code === 'EADDRINUSE'
            ? `HTTP port ${opts.port} is already in use: choose another with --port or TRIBUTARY_PORT (0 turns the server off)`
            : `HTTP server could not listen on ${opts.host ?? '0.0.0.0'}:${opts.port}: ${e.message}`,
          { details: { port: opts.port }, cause: e },
        ),
      ),
    );
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  server.unref();
  const port = (server.address() as AddressInfo).port;
  const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';
  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.end();
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function route(
  source: StatusSource,
  req: IncomingMessage,
  res: ServerResponse,
  streams: Set<ServerResponse>,
  pushMs: number,
): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  switch (path) {
    case '/livez': {
      const h = source.health();
      return send(res, h.live ? 200 : 503, JSON_TYPE, JSON.stringify({ live: h.live, checks: h.checks }));
    }
    case '/readyz': {
      const h = source.health();
      return send(res, h.ready ? 200 : 503, JSON_TYPE, JSON.stringify({ ready: h.ready, checks: h.checks }));
    }
    case '/metrics': {
      const m = await source.metricsText();
      return send(res, 200, m.contentType, m.body);
    }
    case '/status.json':
      return send(res, 200, JSON_TYPE, JSON.stringify(await source.status()));
    case '/':
      return send(res, 200, 'text/html; charset=utf-8', STATUS_PAGE, PAGE_HEADERS);
    case '/events':
      return events(source, res, streams, pushMs);
    case '/taps':
      return send(res, 200, JSON_TYPE, JSON.stringify({ taps: source.tapNames?.() ?? [] }));
    default:
      {
        const tap = /^\/taps\/([^/]+)(\/view)?$/.exec(path);
        const feed = tap ? source.tapFeed?.(decodeURIComponent(tap[1]!)) : undefined;
        if (tap && feed) {
          if (tap[2])
            return send(res, 200, 'text/html; charset=utf-8', tapViewPage(decodeURIComponent(tap[1]!)), PAGE_HEADERS);
          streams.add(res);
          res.on('close', () => streams.delete(res));
          return serveTapFeed(feed, req, res);
        }
      }
      return send(res, 404, JSON_TYPE, JSON.stringify({ error: `no route ${path}` }));
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

/** A status now and every `pushMs` until the page goes away. */
async function events(source: StatusSource, res: ServerResponse, streams: Set<ServerResponse>, pushMs: number) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  streams.add(res);
  let busy = false;
  const push = async () => {
    if (busy || res.writableEnded) return;
    busy = true;
    try {
      res.write(`event: status\ndata: ${JSON.stringify(await source.status())}\n\n`);
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void push().catch(() => res.end()), pushMs).unref();
  res.on('close', () => {
    clearInterval(timer);
    streams.delete(res);
  });
  await push();
}
