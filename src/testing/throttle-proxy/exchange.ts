import type { IncomingMessage, ServerResponse } from 'node:http';
import { reduceCapacity, requestedLevel } from './consumed.js';
import { relay, relayJson } from './replies.js';
import type { TableMeter } from './table-meter.js';
import type { Upstream, UpstreamResponse } from './upstream.js';
import { isObject, type Json } from './wire.js';

/** One DynamoDB request in the proxy: the client's, its parsed body, and the way on. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The body as received. */
  readonly raw: Buffer;
  readonly body: Json;
  readonly upstream: Upstream;
  /** The meter of a table, or `undefined` for a table without a budget. */
  meter(table: string): Promise<TableMeter | undefined>;
}

/** Parses a JSON object, or `undefined` for anything else. */
export function parseJson(buf: Buffer): Json | undefined {
  try {
    const v: unknown = JSON.parse(buf.toString('utf8'));
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The short error name of a DynamoDB error answer (`ConditionalCheckFailedException`). */
export function errorType(up: UpstreamResponse): string | undefined {
  const t = parseJson(up.body)?.__type;
  return typeof t === 'string' ? t.slice(t.lastIndexOf('#') + 1) : undefined;
}

/**
 * Answers the client with the target's successful answer, its ConsumedCapacity cut back to what
 * the client asked for. The bytes go through untouched unless something had to change.
 */
export function answer(x: Exchange, up: UpstreamResponse, json: Json, changed: boolean): void {
  const level = requestedLevel(x.body);
  if (level === 'INDEXES' && !changed) return relay(x.res, up);
  reduceCapacity(json, level);
  relayJson(x.res, up, json);
}
