/**
 * Request ids and the request log line. Every request gets an id (a sane incoming `x-request-id`,
 * else a new UUID), answered in the `x-request-id` header and carried on every log line written
 * while the request runs (a child logger in the logging scope). One line per finished request:
 * error level for 5xx, info for 4xx, debug for the rest (so a busy server logs its failures, not
 * every page of turns).
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';

import { redactUrl } from '../common/redact';
import { rootLogger, withLogger } from '../logging/logger';

export const REQUEST_ID_HEADER = 'x-request-id';

/** What an incoming id may be: short, and only characters that are safe in a log line and a header. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,64}$/;

/** The incoming id when it is a sane short string; anything else (missing, repeated, long, odd characters) gets a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && SANE_REQUEST_ID.test(header) ? header : randomUUID();
}

/** Register first: the id, the response header, the request's logging scope and its finish line. */
export function requestLogging(): RequestHandler {
  return (req, res, next) => {
    const requestId = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const log = rootLogger().child({ requestId });
    const started = performance.now();
    res.once('finish', () => {
      const status = res.statusCode;
      const level = status >= 500 ? 'error' : status >= 400 ? 'info' : 'debug';
      if (!log.isLevelEnabled(level)) return;
      const url = redactUrl(req.originalUrl);
      log[level]({ method: req.method, url, status, durationMs: Math.round(performance.now() - started) }, `${req.method} ${url} ${status}`);
    });
    withLogger(log, next);
  };
}
