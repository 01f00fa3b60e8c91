import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TapFeed } from './feed.js';

/** A comment line this often keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

/**
 * Serves a tap's feed on one HTTP response, as Server-Sent Events (default) or, with
 * `?format=ndjson`, as one JSON object per line (`{ "id": ..., "type": ..., ... }`) for programs.
 * The SSE event id is the resume token: a browser's EventSource sends it back as `Last-Event-ID`
 * when it reconnects, and gets the events after it, nothing twice. Programs pass it as `?after=`.
 *
 * @example
 * ```ts
 * // curl -N 'localhost:9400/taps/clicks-per-page?format=ndjson'
 * serveTapFeed(feed, req, res);
 * ```
 */
export function serveTapFeed(feed: TapFeed, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const ndjson = url.searchParams.get('format') === 'ndjson';
  const header = req.headers['last-event-id'];
  const resume = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('after') ?? undefined;
  res.writeHead(200, {
    'content-type': ndjson ? 'application/x-ndjson; charset=utf-8' : 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  const sub = feed.subscribe(resume).subscribe({
    next: ({ id, event }) => {
      res.write(
        ndjson
          ? `${JSON.stringify({ id, ...event })}\n`
          : `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`,
      );
    },
    complete: () => res.end(),
  });
  const beat = setInterval(() => res.write(ndjson ? '\n' : ': keep-alive\n\n'), HEARTBEAT_MS).unref();
  res.on('close', () => {
    clearInterval(beat);
    sub.unsubscribe();
  });
}
