/**
 * One error base with a stable `code`; messages say what was received and how to fix it.
 * Library code throws these and never calls process.exit; CLIs and (later) GraphQL map them.
 */
export type ErrorCode =
  | 'FILE_NOT_FOUND'
  | 'INVALID_AUDIO'
  | 'NO_AUDIO_STREAM'
  | 'UNSUPPORTED_FORMAT'
  | 'MODEL_MISSING'
  | 'MODEL_MISMATCH'
  | 'INVALID_ARGUMENT'
  | 'DEPENDENCY_MISSING'
  | 'ABORTED'
  // platform (server) codes
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'FORBIDDEN_PATH'
  | 'IMPORT_DISABLED'
  | 'LIMIT_EXCEEDED'
  | 'UPLOAD_TOO_LARGE'
  | 'EMPTY_UPLOAD'
  | 'NOT_AUDIO'
  | 'CONFLICT'
  | 'DATABASE_UNAVAILABLE'
  | 'MODEL_SWITCH_PENDING'
  | 'JOB_STALLED'
  | 'JOB_LOST'
  | 'TOO_MANY_ATTEMPTS'
  | 'QUEUE_UNAVAILABLE'
  | 'NO_TRANSCRIPT'
  | 'CLIP_TOO_LONG'
  | 'CLIP_TASK_TIMEOUT'
  | 'NO_WORKER'
  | 'INTERNAL';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class FileNotFoundError extends AppError {
  constructor(path: string) {
    super('FILE_NOT_FOUND', `File not found: "${path}". Check the path (relative paths are resolved from the current directory).`);
  }
}

export class InvalidAudioError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_AUDIO', message, options);
  }
}

export class NoAudioStreamError extends AppError {
  constructor(path: string) {
    super('NO_AUDIO_STREAM', `"${path}" has no audio stream (a video without sound, an image or a data file?). Provide a recording with an audio track.`);
  }
}

export class ModelMissingError extends AppError {
  constructor(message: string) {
    super('MODEL_MISSING', message);
  }
}

export class ModelMismatchError extends AppError {
  constructor(message: string) {
    super('MODEL_MISMATCH', message);
  }
}

/** A clip for enrollment or voice search is longer than MAX_CLIP_SEC: refused before it is decoded. */
export class ClipTooLongError extends AppError {
  constructor(durationSec: number, maxClipSec: number) {
    const minutes = (seconds: number) => (seconds >= 120 ? `${(seconds / 60).toFixed(1)} min` : `${seconds.toFixed(1)} s`);
    super(
      'CLIP_TOO_LONG',
      `The clip is ${minutes(durationSec)} long; enrollment and voice search take clips of up to ${minutes(maxClipSec)} of one voice (MAX_CLIP_SEC = ${maxClipSec} s). ` +
        'Cut it, or upload it as a meeting and enroll from its speaker.',
    );
  }
}

export class InvalidArgumentError extends AppError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

export class DependencyMissingError extends AppError {
  constructor(message: string) {
    super('DEPENDENCY_MISSING', message);
  }
}

export class AbortedError extends AppError {
  constructor(what = 'operation') {
    super('ABORTED', `The ${what} was cancelled.`);
  }
}

/** Throws AbortedError when the signal has fired; called between batches by long stages. */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw new AbortedError(what);
}

export class NotFoundError extends AppError {
  constructor(what: string, id: string) {
    super('NOT_FOUND', `No ${what} with id "${id}". It may have been deleted; list the ${what}s to find a valid id.`);
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}
