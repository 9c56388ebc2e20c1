/**
 * The server's log: JSON lines on stdout (pino), one per event, with `level`, `time`, `service`,
 * `pid` and `msg`. The only module that imports pino. Secrets never reach a line: pino's `redact`
 * censors authorization headers and token fields, and every message, `url` field and error text goes
 * through redactUrl (`?token=` values and bearer credentials).
 *
 * A request or a job runs inside a scope (AsyncLocalStorage) holding a child logger with its ids
 * (`requestId`; `jobId`, `attempt`, `meetingId`): whatever logs while it runs, through currentLogger()
 * or a logLine() callback, carries them without the ids being passed around.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type DestinationStream, type Logger } from 'pino';

import { redactUrl } from '../common/redact';

export type { Logger };

/** `server`: the embedded platform (API and jobs in one process); with REDIS_URL, `api` or `worker`. */
export type ServiceName = 'api' | 'worker' | 'server';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The levels a one-line callback may ask for. */
export type LineLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * The `log(line)` callback that components take (queues, job service, webhooks, the engine). A
 * callback that ignores the level (a test collecting lines) is one too.
 */
export type LogLine = (line: string, level?: LineLevel) => void;

/** Fields that hold credentials wherever they appear in a logged object (one level deep, and headers). */
const REDACT_PATHS = [
  'authorization',
  'token',
  'secret',
  'password',
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  '*.authorization',
  '*.token',
  '*.secret',
  '*.password',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["proxy-authorization"]',
];

export interface LoggerOptions {
  service: ServiceName;
  /** Default: LOG_LEVEL, else info (silent under jest, NODE_ENV=test, so test output stays readable). */
  level?: LogLevel;
  /** Default: stdout, written synchronously (lines before a process.exit are not lost). */
  destination?: DestinationStream;
}

/** A logger that writes JSON lines with the service name and process id on each. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? levelFromEnvironment(),
      base: { service: options.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // "level":"info" rather than 30: a person reading the line needs no table.
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        url: (url: unknown) => (typeof url === 'string' ? redactUrl(url) : url),
        err: redactedError,
      },
      hooks: {
        // The message and any printf arguments: a token in a URL or an Authorization value in an error text.
        logMethod(args, method) {
          const cleaned = args.map((arg: unknown) => (typeof arg === 'string' ? redactUrl(arg) : arg)) as typeof args;
          return method.apply(this, cleaned);
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

function redactedError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const serialized = pino.stdSerializers.err(error);
  return { ...serialized, message: redactUrl(serialized.message), stack: redactUrl(serialized.stack) };
}

/** LOG_LEVEL when it names a level; else info, or silent under jest (NODE_ENV=test). */
export function levelFromEnvironment(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const wanted = env.LOG_LEVEL?.trim().toLowerCase();
  if (wanted && (LOG_LEVELS as readonly string[]).includes(wanted)) return wanted as LogLevel;
  return env.NODE_ENV === 'test' ? 'silent' : 'info';
}

let processLogger: Logger | undefined;
const scope = new AsyncLocalStorage<Logger>();

/** Sets the process's logger (entry points call it once the configuration is read) and returns it. */
export function configureLogging(options: LoggerOptions): Logger {
  processLogger = createLogger(options);
  return processLogger;
}

/** The process's logger (until configureLogging runs: service `server`, level from the environment). */
export function rootLogger(): Logger {
  return (processLogger ??= createLogger({ service: 'server' }));
}

/** The logger of the request or job running now, else the process's. */
export function currentLogger(): Logger {
  return scope.getStore() ?? rootLogger();
}

/** Runs `run` (and everything it starts) with `logger` as currentLogger(). */
export function withLogger<T>(logger: Logger, run: () => T): T {
  return scope.run(logger, run);
}

/** A callback for components that take `log(line)`: each line goes to currentLogger() at info unless told. */
export function logLine(): LogLine {
  return (line, level = 'info') => currentLogger()[level](line);
}
