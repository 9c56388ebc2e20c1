/**
 * JSON errors for the plain HTTP endpoints (uploads, media): `{ error: { code, message } }` with a
 * stable code, never a stack trace. Anything that is not an AppError is logged and masked as INTERNAL.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { AppError, type ErrorCode } from '../common/errors';
import { redactUrl } from '../common/redact';
import { currentLogger } from '../logging/logger';

/** AppError codes plus the ones only HTTP answers carry. */
export type HttpErrorCode =
  | ErrorCode
  | 'INVALID_TRANSCRIPT'
  | 'MISSING_FILE'
  | 'NOT_MULTIPART'
  | 'UPLOAD_INCOMPLETE'
  | 'UPLOAD_IDLE_TIMEOUT'
  | 'TOO_MANY_UPLOADS'
  | 'INSUFFICIENT_STORAGE'
  | 'MEDIA_NOT_READY'
  | 'RANGE_NOT_SATISFIABLE'
  | 'BAD_REQUEST';

/** An error answered with a given status and code (for codes that are not AppError codes). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

/** HTTP status of each AppError code; codes missing here answer 500 (but keep their code and message). */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  BAD_REQUEST: 400,
  EMPTY_UPLOAD: 400,
  MISSING_FILE: 400,
  INVALID_TRANSCRIPT: 400,
  NOT_MULTIPART: 400,
  UPLOAD_INCOMPLETE: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  FORBIDDEN_PATH: 403,
  IMPORT_DISABLED: 403,
  NOT_FOUND: 404,
  FILE_NOT_FOUND: 404,
  MEDIA_NOT_READY: 404,
  UPLOAD_IDLE_TIMEOUT: 408,
  CONFLICT: 409,
  ABORTED: 409,
  MODEL_SWITCH_PENDING: 409,
  MODEL_MISMATCH: 409,
  UPLOAD_TOO_LARGE: 413,
  LIMIT_EXCEEDED: 413,
  CLIP_TOO_LONG: 413,
  NOT_AUDIO: 415,
  INVALID_AUDIO: 415,
  NO_AUDIO_STREAM: 415,
  UNSUPPORTED_FORMAT: 415,
  RANGE_NOT_SATISFIABLE: 416,
  TOO_MANY_UPLOADS: 429,
  INTERNAL: 500,
  MODEL_MISSING: 503,
  DEPENDENCY_MISSING: 503,
  DATABASE_UNAVAILABLE: 503,
  INSUFFICIENT_STORAGE: 507,
  CLIP_TASK_TIMEOUT: 503,
  NO_WORKER: 503,
};

export function statusForCode(code: string): number {
  return STATUS_BY_CODE[code] ?? 500;
}

/** Sends `{ error: { code, message } }` with `status`; does nothing if the response has already started. */
export function sendError(res: Response, status: number, code: HttpErrorCode, message: string): void {
  if (res.headersSent) return;
  res
    .status(status)
    .type('application/json')
    .set('Cache-Control', 'no-store')
    .send(JSON.stringify({ error: { code, message } } satisfies ErrorBody));
}

/** Sends an AppError with the status of its code. */
export function sendAppError(res: Response, err: AppError): void {
  sendError(res, statusForCode(err.code), err.code, err.message);
}

type Logger = (message: string, err: unknown) => void;

const defaultLogger: Logger = (message, err) => currentLogger().error({ err }, message);

/** Errors that body parsers and Express itself raise carry an HTTP status and `expose` for safe messages. */
interface HttpishError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
}

/**
 * Express error middleware (register last): AppError → its status and code; client errors raised by
 * Express/body parsers (4xx with `expose`) → BAD_REQUEST with their message; anything else → logged,
 * answered 500 INTERNAL without details.
 */
export function errorMiddleware(log: Logger = defaultLogger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) {
      // Too late for a JSON answer: let Express close the connection.
      next(err);
      return;
    }
    if (err instanceof HttpError) {
      sendError(res, err.status, err.code, err.message);
      return;
    }
    if (err instanceof AppError) {
      if (statusForCode(err.code) >= 500) log(`${req.method} ${redactUrl(req.originalUrl)} failed with ${err.code}:`, err);
      sendAppError(res, err);
      return;
    }
    const httpish = (typeof err === 'object' && err !== null ? err : {}) as HttpishError;
    const status = httpish.status ?? httpish.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500 && httpish.expose) {
      sendError(res, status, 'BAD_REQUEST', httpish.message ?? 'Bad request.');
      return;
    }
    log(`${req.method} ${redactUrl(req.originalUrl)} failed:`, err);
    sendError(res, 500, 'INTERNAL', 'Internal server error. It has been logged; try again, and report it if it persists.');
  };
}

/** The answer for routes nobody handles (register after all routes, before errorMiddleware). */
export function notFoundHandler(): RequestHandler {
  return (req, res) => sendError(res, 404, 'NOT_FOUND', `No endpoint ${req.method} ${req.path}. See the README for the API (GraphQL at /graphql).`);
}
