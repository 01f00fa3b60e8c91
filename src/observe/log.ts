export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A structured logger: one JSON object per line. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/**
 * JSON-lines logger to a stream (stderr by default), filtered by `TRIBUTARY_LOG_LEVEL`.
 *
 * @example
 * ```ts
 * const log = jsonLogger({ level: 'info' }).child({ app: 'shop' });
 * log.info('started', { shards: 4 });
 * ```
 */
export function jsonLogger(
  opts: { level?: Level; write?: (line: string) => void; base?: Record<string, unknown> } = {},
): Logger {
  const level = opts.level ?? (process.env.TRIBUTARY_LOG_LEVEL as Level | undefined) ?? 'info';
  const write = opts.write ?? ((l: string) => process.stderr.write(l + '\n'));
  const base = opts.base ?? {};
  const emit = (lvl: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base, ...fields }, errorReplacer));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => jsonLogger({ level, write, base: { ...base, ...fields } }),
  };
}

function errorReplacer(_k: string, v: unknown): unknown {
  if (v instanceof Error) return { name: v.name, message: v.message, code: (v as { code?: unknown }).code };
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
