import type { CapacityConfig, RuntimeSettings } from '../core/runtime-settings.js';
import { TributaryError } from '../core/errors.js';
import { SETTINGS } from '../runtime/options.js';

type Values = Partial<Record<string, string | boolean>>;

const usage = (message: string) => new TributaryError('cli.usage', message);

/** `--port`: a whole number in 0..65535 (0 turns the HTTP server off). */
export function port(v: string | boolean | undefined): number | undefined {
  if (v === undefined || typeof v === 'boolean') return undefined;
  if (!/^\d+$/.test(v) || Number(v) > 65_535)
    throw usage(`--port must be a port number (0 turns the server off), got '${v}'`);
  return Number(v);
}

function whole(v: string | boolean | undefined, flag: string, zero = false): number | undefined {
  if (v === undefined || typeof v === 'boolean') return undefined;
  if (!/^\d+$/.test(v) || (!zero && Number(v) <= 0))
    throw usage(`${flag} must be a ${zero ? 'whole number ≥ 0' : 'positive whole number'}, got '${v}'`);
  return Number(v);
}

/** `--capacity '{"page_clicks":{"share":0.8},"*":{"writeRate":50}}'`: budgets by logical table name. */
function capacity(v: string | boolean | undefined): Readonly<Record<string, CapacityConfig>> | undefined {
  if (v === undefined || typeof v === 'boolean') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw usage(`--capacity must be JSON, e.g. '{"*":{"share":0.5}}': ${(e as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw usage(`--capacity must be a JSON object of table name → { writeRate, readRate, share, burstSeconds }`);
  return parsed as Record<string, CapacityConfig>;
}

/** The runtime settings `tributary run` takes as flags; unset flags are left out, so the environment and the app apply. */
export function runSettings(v: Values): RuntimeSettings {
  const s: Record<string, unknown> = {
    port: port(v.port),
    host: typeof v.host === 'string' ? v.host : undefined,
    leaseDurationMs: whole(v['lease-duration-ms'], '--lease-duration-ms'),
    checkpointIntervalMs: whole(v['checkpoint-interval-ms'], '--checkpoint-interval-ms'),
    maxBatchesInFlight: whole(v['max-batches-in-flight'], '--max-batches-in-flight'),
    readyOutageMs: whole(v['ready-outage-ms'], '--ready-outage-ms'),
    progressLogIntervalMs: whole(v['progress-log-ms'], '--progress-log-ms', true),
    capacity: capacity(v.capacity),
  };
  return Object.fromEntries(Object.entries(s).filter(([, x]) => x !== undefined)) as RuntimeSettings;
}

/** The runtime settings' environment variables and defaults, for `--help` (generated from `SETTINGS`, so it cannot drift). */
export function settingsHelp(): string {
  const derived: Record<string, string> = { renewIntervalMs: 'a third of the lease duration' };
  const lines = Object.entries(SETTINGS).map(
    ([k, d]) => `  ${d.env.padEnd(34)} ${k} (default ${d.default === undefined ? derived[k] : String(d.default)})`,
  );
  return [
    'Runtime settings (flag > environment > app definition runtime: {...} > default):',
    ...lines,
    `  ${'TRIBUTARY_HOST'.padEnd(34)} host (default 0.0.0.0)`,
    `  ${'--capacity <json>'.padEnd(34)} capacity budgets by table, e.g. '{"*":{"share":0.5}}' (default: provisioned capacity)`,
  ].join('\n');
}
