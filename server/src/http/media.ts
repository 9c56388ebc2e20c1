/**
 * `GET /media/:meetingId/audio` (the browser-playable copy, with HTTP range requests so that
 * <audio> can seek) and `GET /media/:meetingId/peaks?format=json|bin&resolution=<peaks per second>`.
 * Works on any BlobStore: ranges are parsed by Express (`req.range`, range-parser) and conditional
 * requests checked by `req.fresh`, then only the asked bytes are streamed from the store.
 */
import { pipeline } from 'node:stream/promises';
import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import { decodePeaks, encodePeaks, peaksAtResolution, peaksToJson, type Peaks } from '../audio/peaks';
import { PLAYABLE_CONTENT_TYPE } from '../audio/playable';
import { AppError } from '../common/errors';
import type { BlobStat, BlobStore, ByteRange } from '../storage/blob-store';
import { sendError } from './errors';

export interface MediaKeys {
  /** Blob key of the playable copy (Opus/WebM); absent until ingest has made it. */
  playableKey?: string;
  /** Blob key of the peaks (audiowaveform .dat); absent until ingest has made them. */
  peaksKey?: string;
}

/** Finds a meeting's media; undefined when there is no such meeting (answered 404 NOT_FOUND). */
export type MediaLookup = (meetingId: string) => Promise<MediaKeys | undefined>;

export interface MediaOptions {
  blobs: BlobStore;
  lookup: MediaLookup;
}

/** Peaks files are small (2 bytes per 10 ms: 2.9 MB for 4 hours); anything far larger is not one. */
const MAX_PEAKS_BYTES = 64 * 1024 * 1024;

/** Content does not change under a key (writes are atomic and keys are per meeting), so size + mtime is a strong validator. */
function etagOf(stat: BlobStat, variant = ''): string {
  return `"${stat.bytes.toString(16)}-${Math.floor(stat.modifiedAt.getTime()).toString(16)}${variant}"`;
}

function setValidators(res: Response, stat: BlobStat, etag: string): void {
  res.set({ ETag: etag, 'Last-Modified': stat.modifiedAt.toUTCString(), 'Cache-Control': 'private, no-cache' });
}

/** If-Range (RFC 9110 §13.1.5): ranges apply only when the client's copy is the current one. */
function ifRangeAllows(req: Request, etag: string, stat: BlobStat): boolean {
  const ifRange = req.get('If-Range');
  if (!ifRange) return true;
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return ifRange === etag; // strong comparison
  const date = Date.parse(ifRange);
  return Number.isFinite(date) && Math.floor(stat.modifiedAt.getTime() / 1000) * 1000 <= date;
}

type Resolved = { key: string; stat: BlobStat } | undefined;

/** The blob of one kind of media for a meeting, or an error answer (and undefined). */
async function resolveMedia(res: Response, options: MediaOptions, meetingId: string, kind: 'playableKey' | 'peaksKey'): Promise<Resolved> {
  const keys = await options.lookup(meetingId);
  if (!keys) {
    sendError(res, 404, 'NOT_FOUND', `No meeting with id "${meetingId}". It may have been deleted; list the meetings to find a valid id.`);
    return undefined;
  }
  const what = kind === 'playableKey' ? 'playable audio' : 'waveform peaks';
  const key = keys[kind];
  const stat = key ? await options.blobs.stat(key) : undefined;
  if (!key || !stat) {
    const why = key
      ? 'are missing from storage; reprocess the meeting to make them again'
      : 'are not ready yet; they are made when the upload is ingested, try again shortly';
    sendError(res, 404, 'MEDIA_NOT_READY', `The ${what} of meeting "${meetingId}" ${why}.`);
    return undefined;
  }
  return { key, stat };
}

/** Streams a blob (or a range of it) into the response; a client that goes away just ends it. */
async function streamBlob(res: Response, blobs: BlobStore, key: string, range?: ByteRange): Promise<void> {
  try {
    await pipeline(blobs.createReadStream(key, range), res);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE' || res.destroyed) return; // client went away
    throw err;
  }
}

/** `GET|HEAD /media/:meetingId/audio`: 200 or 206 (single range), 304, 416 with `Content-Range: bytes *\/size`. */
export function createAudioHandler(options: MediaOptions): RequestHandler<{ meetingId: string }> {
  return async (req, res) => {
    const found = await resolveMedia(res, options, req.params.meetingId, 'playableKey');
    if (!found) return;
    const { key, stat } = found;
    const etag = etagOf(stat);
    setValidators(res, stat, etag);
    res.set('Accept-Ranges', 'bytes');
    res.type(PLAYABLE_CONTENT_TYPE);
    if (req.fresh) {
      res.status(304).end();
      return;
    }

    let range: ByteRange | undefined;
    if (req.headers.range && ifRangeAllows(req, etag, stat)) {
      const parsed = req.range(stat.bytes, { combine: true });
      if (parsed === -1) {
        res.set('Content-Range', `bytes */${stat.bytes}`);
        sendError(res, 416, 'RANGE_NOT_SATISFIABLE', `Range "${req.headers.range}" is outside the ${stat.bytes} bytes of this audio.`);
        return;
      }
      // Malformed (-2), non-byte or multiple ranges: the whole file, as RFC 9110 allows.
      if (Array.isArray(parsed) && parsed.type === 'bytes' && parsed.length === 1) range = { start: parsed[0].start, end: parsed[0].end };
    }

    if (range) {
      res.status(206).set({ 'Content-Range': `bytes ${range.start}-${range.end}/${stat.bytes}`, 'Content-Length': String(range.end - range.start + 1) });
    } else {
      res.status(200).set('Content-Length', String(stat.bytes));
    }
    if (req.method === 'HEAD' || stat.bytes === 0) {
      res.end();
      return;
    }
    await streamBlob(res, options.blobs, key, range);
  };
}

function singleQueryValue(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AppError('INVALID_ARGUMENT', `Give the query parameter "${name}" once, as a plain value.`);
  return value;
}

async function readSmallBlob(blobs: BlobStore, key: string, stat: BlobStat): Promise<Buffer> {
  if (stat.bytes > MAX_PEAKS_BYTES) throw new Error(`Peaks blob ${key} is ${stat.bytes} bytes, more than a peaks file can be (${MAX_PEAKS_BYTES}).`);
  const chunks: Buffer[] = [];
  for await (const chunk of blobs.createReadStream(key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * `GET|HEAD /media/:meetingId/peaks?format=json|bin&resolution=<peaks per second>`: JSON
 * `{ sampleRate, samplesPerPeak, length, bits, data: [min, max, …] }` (int8 values, /128 for
 * amplitude) or the audiowaveform .dat bytes; resolution (default: stored, 100 per second) merges
 * peaks so there are at most that many per second.
 */
export function createPeaksHandler(options: MediaOptions): RequestHandler<{ meetingId: string }> {
  return async (req, res) => {
    const format = singleQueryValue(req, 'format') ?? 'json';
    if (format !== 'json' && format !== 'bin') {
      sendError(res, 400, 'INVALID_ARGUMENT', `format must be "json" or "bin", received "${format}".`);
      return;
    }
    const resolutionText = singleQueryValue(req, 'resolution');
    const resolution = resolutionText === undefined || resolutionText === '' ? undefined : Number(resolutionText);
    if (resolution !== undefined && !(Number.isFinite(resolution) && resolution > 0)) {
      sendError(res, 400, 'INVALID_ARGUMENT', `resolution must be a positive number of peaks per second (e.g. 100, 20 or 0.5), received "${resolutionText}".`);
      return;
    }

    const found = await resolveMedia(res, options, req.params.meetingId, 'peaksKey');
    if (!found) return;
    const { key, stat } = found;
    setValidators(res, stat, etagOf(stat, `-${format}-${resolution ?? 'stored'}`));
    if (req.fresh) {
      res.status(304).end();
      return;
    }

    let stored: Peaks;
    try {
      stored = decodePeaks(await readSmallBlob(options.blobs, key, stat));
    } catch (err) {
      // Server data, not the client's input: an internal error (logged by the error middleware).
      throw new Error(`The peaks of meeting "${req.params.meetingId}" (${key}) cannot be read.`, { cause: err });
    }
    const peaks = peaksAtResolution(stored, resolution);
    if (format === 'bin') res.type('application/octet-stream').send(encodePeaks(peaks));
    else res.json(peaksToJson(peaks));
  };
}

/** Both media routes, to mount under `/media` (put authentication in front of it). */
export function createMediaRouter(options: MediaOptions): Router {
  const router = express.Router();
  router.get('/:meetingId/audio', createAudioHandler(options));
  router.get('/:meetingId/peaks', createPeaksHandler(options));
  return router;
}
