import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { TributaryError } from '../core/errors.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: readonly string[] = ['debug', 'info', 'warn', 'error'] satisfies Level[];

/**
 * A structured logger: the message first, then the fields of the line. A thin type over pino, so
 * that a user can hand the runner any logger (see {@link fromPino}) or none ({@link silentLogger}).
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

/**
 * Fields redacted from every line of {@link jsonLogger}, in pino's path syntax (`*` is one level
 * of nesting). Credentials come from the default provider chain and are never logged on purpose;
 * these catch an SDK configuration, a credential object or a signed request logged by accident.
 */
export const CREDENTIAL_PATHS: readonly string[] = [
  'accessKeyId',
  'secretAccessKey',
  'sessionToken',
  'credentials',
  'password',
  'authorization',
  'headers.authorization',
  'headers.Authorization',
  'headers["x-amz-security-token"]',
  ...['accessKeyId', 'secretAccessKey', 'sessionToken', 'credentials', 'password', 'authorization'].flatMap((k) => [
    `*.${k}`,
    `*.*.${k}`,
  ]),
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers["x-amz-security-token"]',
];

/** How {@link jsonLogger} writes. */
export interface JsonLoggerOptions {
  /** Least level written. Default `TRIBUTARY_LOG_LEVEL`, else `info`. */
  readonly level?: Level;
  /** Where the lines go, one JSON object per line. Default stderr. */
  readonly destination?: DestinationStream;
  /** Fields on every line. */
  readonly base?: Record<string, unknown>;
  /** Paths redacted on top of {@link CREDENTIAL_PATHS}, in pino's syntax (`'order.card.number'`, `'*.apiKey'`). */
  readonly redact?: readonly string[];
}

/**
 * JSON-lines logger on pino, to stderr by default: `{"level":"info","time":"<ISO>",...fields,"msg":...}`.
 * Credentials ({@link CREDENTIAL_PATHS}) and the paths in `redact` are written as `[redacted]`;
 * an `error` or `err` field that holds an Error is written as its name, message and code.
 *
 * @example
 * ```ts
 * const log = jsonLogger({ level: 'info', redact: ['*.apiKey'] }).child({ app: 'shop' });
 * log.info('started', { shards: 4 });
 * ```
 */
export function jsonLogger(opts: JsonLoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.TRIBUTARY_LOG_LEVEL ?? 'info';
  if (!LEVELS.includes(level))
    throw new TributaryError('config.invalid', `log level '${level}' is none of ${LEVELS.join(', ')}`, {
      details: { level },
    });
  const p = pino(
    {
      level,
      base: opts.base ?? null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { error: errorFields, err: errorFields },
      redact: { paths: [...CREDENTIAL_PATHS, ...(opts.redact ?? [])], censor: '[redacted]' },
    },
    opts.destination ?? process.stderr,
  );
  return fromPino(p);
}

/**
 * Adapts a pino logger to {@link Logger}, for an application that configures its own pino
 * (its redaction included: add {@link CREDENTIAL_PATHS}).
 *
 * @example
 * ```ts
 * const runner = new Runner(app, { log: fromPino(pino({ redact: [...CREDENTIAL_PATHS] })) });
 * ```
 */
export function fromPino(p: PinoLogger): Logger {
  return {
    debug: (msg, fields) => p.debug(fields ?? {}, msg),
    info: (msg, fields) => p.info(fields ?? {}, msg),
    warn: (msg, fields) => p.warn(fields ?? {}, msg),
    error: (msg, fields) => p.error(fields ?? {}, msg),
    child: (fields) => fromPino(p.child(fields)),
  };
}

/** An Error as the line shows it; SDK errors carry whole responses that have no place in a log. */
function errorFields(v: unknown): unknown {
  if (!(v instanceof Error)) return v;
  return { name: v.name, message: v.message, code: (v as { code?: unknown }).code };
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
