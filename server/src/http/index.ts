/** http/: the plain HTTP endpoints next to /graphql (uploads, media) and their JSON errors. */
export { createUploadHandler, UPLOAD_FIELD, type UploadedFile, type UploadHandlerOptions } from './uploads';
export { createMediaRouter, createAudioHandler, createPeaksHandler, type MediaKeys, type MediaLookup, type MediaOptions } from './media';
export { resolveImportPath } from './import-path';
export { errorMiddleware, notFoundHandler, sendError, sendAppError, statusForCode, HttpError, type HttpErrorCode, type ErrorBody } from './errors';
