/**
 * Uploads and media over real HTTP: a small Express app with the upload handler, the media routes and
 * the JSON error middleware, listening on 127.0.0.1, driven by fetch and raw http requests.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { probeAudio } from '../server/src/audio';
import { computePeaks, decodePeaks } from '../server/src/audio/peaks';
import { AppError } from '../server/src/common/errors';
import { devDataDir } from '../server/src/common/paths';
import { errorMiddleware, notFoundHandler } from '../server/src/http/errors';
import { createMediaRouter, type MediaKeys } from '../server/src/http/media';
import { createUploadHandler, type UploadedFile } from '../server/src/http/uploads';
import { LocalBlobStore } from '../server/src/storage/blob-store';
import { createMediaDerivatives, type MediaDerivatives } from '../server/src/storage/media-derivatives';
import { ffmpeg, tempDir } from './helpers/media';

const DEV_WAV = path.join(devDataDir, 'diarization', 'ami_EN2001a_0000-0030.wav');
const SMALL_LIMIT = 500_000;

const { dir, cleanup } = tempDir('http-ingest');
const dataDir = path.join(dir, 'data');
const blobs = new LocalBlobStore(dataDir);
const uploads: UploadedFile[] = [];
const logged: unknown[] = [];
const meetings = new Map<string, MediaKeys>();
let server: http.Server;
let base: string;

beforeAll(async () => {
  const app = express();
  const record = (u: UploadedFile): void => {
    uploads.push(u);
  };
  app.post('/uploads', createUploadHandler({ blobs, maxBytes: 50_000_000, onUploaded: record }));
  app.post('/small-uploads', createUploadHandler({ blobs, maxBytes: SMALL_LIMIT, onUploaded: record }));
  app.post(
    '/conflicting-uploads',
    createUploadHandler({
      blobs,
      maxBytes: 50_000_000,
      onUploaded: () => {
        throw new AppError('CONFLICT', 'That upload id is taken.');
      },
    }),
  );
  app.post(
    '/broken-uploads',
    createUploadHandler({
      blobs,
      maxBytes: 50_000_000,
      onUploaded: async () => {
        throw new Error('database is on fire at /secret/internal/path');
      },
    }),
  );
  app.use('/media', createMediaRouter({ blobs, lookup: async (id) => meetings.get(id) }));
  app.use(notFoundHandler());
  app.use(errorMiddleware((_message, err) => logged.push(err)));
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  cleanup();
});

/** Files (not folders) under the uploads folder, partial writes included, relative to it. */
function uploadedFiles(): string[] {
  const walk = (folder: string): string[] =>
    readdirSync(folder, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(folder, e.name)) : [path.join(folder, e.name)]));
  const root = path.join(dataDir, 'uploads');
  return existsSync(root) ? walk(root).map((f) => path.relative(root, f)) : [];
}

async function waitFor(condition: () => boolean, ms = 10_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return condition();
}

async function upload(
  route: string,
  bytes: Uint8Array,
  name: string,
): Promise<{ status: number; body: { id?: string; error?: { code: string; message: string } } }> {
  const form = new FormData();
  form.append('title', 'ignored field');
  form.append('file', new Blob([bytes]), name);
  const res = await fetch(`${base}${route}`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as { id?: string; error?: { code: string; message: string } } };
}

const BOUNDARY = 'xTestBoundary42';
const partHead = (name: string, filename?: string): Buffer =>
  Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
const formTail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);

interface RawResult {
  status?: number;
  body: string;
  error?: string;
}

/** A multipart POST sent in chunks without Content-Length (chunked encoding), as a streaming client would. */
function rawUpload(route: string, chunks: Buffer[]): Promise<RawResult> {
  return new Promise((resolve) => {
    const req = http.request(`${base}${route}`, { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` } });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (t: string) => (body += t));
      res.on('end', () => resolve({ status: res.statusCode, body }));
      res.on('error', (err) => resolve({ status: res.statusCode, body, error: err.message }));
    });
    req.on('error', (err) => resolve({ body: '', error: err.message }));
    (async () => {
      for (const chunk of chunks) {
        if (req.destroyed) return;
        if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(() => undefined);
  });
}

/** A 16 kHz mono 16-bit WAV of exactly `totalBytes` bytes (silence). */
function wavOfSize(totalBytes: number): Buffer {
  const dataBytes = totalBytes - 44;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(16000, 24);
  header.writeUInt32LE(32000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return Buffer.concat([header, Buffer.alloc(dataBytes)]);
}

describe('POST /uploads', () => {
  test('a dev recording is stored byte-identical and reported to onUploaded', async () => {
    const bytes = readFileSync(DEV_WAV);
    const { status, body } = await upload('/uploads', bytes, 'ami meeting.wav');
    expect(status).toBe(201);
    expect(Object.keys(body)).toEqual(['id']);
    const recorded = uploads.find((u) => u.id === body.id)!;
    expect(recorded).toEqual({
      id: body.id,
      originalName: 'ami meeting.wav',
      key: `uploads/${body.id}/original.wav`,
      bytes: bytes.length,
      format: 'wav',
      durationSec: expect.any(Number),
    });
    expect(recorded.durationSec).toBeCloseTo(30, 1);
    expect(readFileSync(blobs.absolutePath(recorded.key)).equals(bytes)).toBe(true);
  });

  test('an mp3 made with ffmpeg, with a UTF-8 file name', async () => {
    const mp3 = path.join(dir, 'clip.mp3');
    ffmpeg(['-i', DEV_WAV, '-t', '5', '-c:a', 'libmp3lame', '-b:a', '64k', mp3]);
    const bytes = readFileSync(mp3);
    const { status, body } = await upload('/uploads', bytes, 'réunion été.mp3');
    expect(status).toBe(201);
    const recorded = uploads.find((u) => u.id === body.id)!;
    expect(recorded.originalName).toBe('réunion été.mp3');
    expect(recorded.format).toBe('mp3');
    expect(Math.abs(recorded.durationSec! - 5)).toBeLessThan(0.1);
    expect(readFileSync(blobs.absolutePath(recorded.key)).equals(bytes)).toBe(true);
  });

  test('an empty file: 400 EMPTY_UPLOAD, nothing stored', async () => {
    const before = uploads.length;
    const { status, body } = await upload('/uploads', new Uint8Array(0), 'empty.wav');
    expect(status).toBe(400);
    expect(body.error?.code).toBe('EMPTY_UPLOAD');
    expect(body.error?.message).toMatch(/"empty.wav" is empty/);
    expect(uploads.length).toBe(before);
    expect(uploadedFiles().filter((f) => f.includes('empty'))).toEqual([]);
  });

  test('a text file renamed .wav: 415 NOT_AUDIO with the reason, no file left, no server path leaked', async () => {
    const countBefore = uploadedFiles().length;
    const { status, body } = await upload('/uploads', Buffer.from('Minutes of the meeting: nothing to report.\n'.repeat(20)), 'notes.wav');
    expect(status).toBe(415);
    expect(body.error?.code).toBe('NOT_AUDIO');
    expect(body.error?.message).toMatch(/"notes.wav" is not a recognised audio\/video file.*ffprobe/);
    expect(body.error?.message).not.toContain(dataDir);
    expect(uploadedFiles().length).toBe(countBefore);
  });

  test('no file field, or the file sent as a text field: 400 MISSING_FILE', async () => {
    const form = new FormData();
    form.append('title', 'no file here');
    let res = await fetch(`${base}/uploads`, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('MISSING_FILE');

    const asText = new FormData();
    asText.append('file', 'C:\\recordings\\meeting.wav');
    res = await fetch(`${base}/uploads`, { method: 'POST', body: asText });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status).toBe(400);
    expect(body.error.code).toBe('MISSING_FILE');
    expect(body.error.message).toMatch(/arrived as text/);
  });

  test('a body that is not multipart: 400 NOT_MULTIPART', async () => {
    const res = await fetch(`${base}/uploads`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"file":"x"}' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_MULTIPART');
  });

  describe('size limit', () => {
    test('a declared Content-Length far over the limit: 413 before reading, with the limit in MB', async () => {
      const { status, body } = await upload('/small-uploads', readFileSync(DEV_WAV), 'big.wav'); // 960 kB > 0.5 MB
      expect(status).toBe(413);
      expect(body.error?.code).toBe('UPLOAD_TOO_LARGE');
      expect(body.error?.message).toMatch(/limit is 0\.5 MB \(500000 bytes\)/);
    });

    test('streamed (no Content-Length): a file of exactly the limit is accepted, one byte more is refused while streaming', async () => {
      const exact = wavOfSize(SMALL_LIMIT);
      const ok = await rawUpload('/small-uploads', [partHead('file', 'exact.wav'), exact.subarray(0, 100_000), exact.subarray(100_000), formTail]);
      expect(ok.status).toBe(201);
      const id = (JSON.parse(ok.body) as { id: string }).id;
      expect(uploads.find((u) => u.id === id)?.bytes).toBe(SMALL_LIMIT);

      const before = uploadedFiles().length;
      const over = wavOfSize(SMALL_LIMIT + 1);
      const refused = await rawUpload('/small-uploads', [partHead('file', 'over.wav'), over.subarray(0, 100_000), over.subarray(100_000), formTail]);
      expect(refused.status).toBe(413);
      expect(JSON.parse(refused.body).error.code).toBe('UPLOAD_TOO_LARGE');
      expect(await waitFor(() => uploadedFiles().length === before)).toBe(true);
    });

    test('a large streamed upload over the limit is cut off early: 413, nothing stored', async () => {
      const before = uploadedFiles().length;
      const chunk = Buffer.alloc(64 * 1024, 7);
      const chunks = [partHead('file', 'huge.wav'), ...Array.from({ length: 160 }, () => chunk), formTail]; // 10 MB
      const result = await rawUpload('/small-uploads', chunks);
      // The server answers and closes while the client may still be sending; Node's client still reads the answer.
      expect(result.status).toBe(413);
      expect(JSON.parse(result.body).error.code).toBe('UPLOAD_TOO_LARGE');
      expect(await waitFor(() => uploadedFiles().length === before)).toBe(true);
    });
  });

  test('a client that aborts mid-stream leaves no file, and the server keeps serving', async () => {
    const before = uploadedFiles().length;
    const recordedBefore = uploads.length;
    const req = http.request(`${base}/uploads`, { method: 'POST', headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` } });
    req.on('error', () => undefined);
    req.write(partHead('file', 'aborted.wav'));
    req.write(wavOfSize(300_000));
    // The partial file exists while the upload is in flight…
    expect(await waitFor(() => uploadedFiles().some((f) => f.includes('.partial-')))).toBe(true);
    req.destroy();
    // …and is gone once the server notices the connection closed.
    expect(await waitFor(() => uploadedFiles().length === before)).toBe(true);
    // Every upload folder belongs to a recorded upload: the aborted one's folder goes too, right after its file.
    expect(await waitFor(() => readdirSync(path.join(dataDir, 'uploads')).length === uploads.length)).toBe(true);
    expect(uploads.length).toBe(recordedBefore);
    const { status } = await upload('/uploads', readFileSync(DEV_WAV), 'after-abort.wav');
    expect(status).toBe(201);
  });

  test('a multipart body cut off before its closing boundary: 400 UPLOAD_INCOMPLETE, nothing stored', async () => {
    const before = uploadedFiles().length;
    const result = await rawUpload('/uploads', [partHead('file', 'cut.wav'), wavOfSize(100_000)]);
    expect(result.status).toBe(400);
    expect(JSON.parse(result.body).error.code).toBe('UPLOAD_INCOMPLETE');
    expect(await waitFor(() => uploadedFiles().length === before)).toBe(true);
  });

  test('onUploaded throwing an AppError: its status and code, file removed', async () => {
    const before = uploadedFiles().length;
    const { status, body } = await upload('/conflicting-uploads', readFileSync(DEV_WAV), 'dup.wav');
    expect(status).toBe(409);
    expect(body.error).toEqual({ code: 'CONFLICT', message: 'That upload id is taken.' });
    expect(uploadedFiles().length).toBe(before);
  });

  test('onUploaded throwing anything else: 500 INTERNAL without details, logged, file removed', async () => {
    const before = uploadedFiles().length;
    const { status, body } = await upload('/broken-uploads', readFileSync(DEV_WAV), 'x.wav');
    expect(status).toBe(500);
    expect(body.error?.code).toBe('INTERNAL');
    expect(JSON.stringify(body)).not.toMatch(/secret|on fire|at /);
    expect(logged.some((e) => e instanceof Error && /on fire/.test(e.message))).toBe(true);
    expect(uploadedFiles().length).toBe(before);
  });

  test('unknown routes answer 404 JSON', async () => {
    const res = await fetch(`${base}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});

describe('GET /media', () => {
  let media: MediaDerivatives;
  let playable: Buffer;
  let peaksReference: Awaited<ReturnType<typeof computePeaks>>;

  beforeAll(async () => {
    const { body } = await upload('/uploads', readFileSync(DEV_WAV), 'for-media.wav');
    const recorded = uploads.find((u) => u.id === body.id)!;
    media = await createMediaDerivatives({ blobs, sourceKey: recorded.key, targetPrefix: `uploads/${recorded.id}` });
    meetings.set('m1', { playableKey: media.playableKey, peaksKey: media.peaksKey });
    meetings.set('m-pending', {});
    playable = readFileSync(blobs.absolutePath(media.playableKey));
    peaksReference = await computePeaks(DEV_WAV);
  });

  test('ingest made an Opus/WebM copy of the same duration and exact-duration peaks', async () => {
    const info = await probeAudio(blobs.absolutePath(media.playableKey));
    expect(info.formatName).toBe('matroska,webm');
    expect(info.codec).toBe('opus');
    expect(info.channels).toBe(1);
    expect(Math.abs(info.durationSec! - 30)).toBeLessThan(0.1);
    expect(media.durationSec).toBe(peaksReference.totalSamples / 16000);
    expect(Math.abs(media.durationSec - 30)).toBeLessThan(0.01);
  });

  test('the whole file: 200, audio/webm, Accept-Ranges, validators', async () => {
    const res = await fetch(`${base}/media/m1/audio`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/webm');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('content-length')).toBe(String(playable.length));
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(res.headers.get('last-modified')).toBeTruthy();
    expect(Buffer.from(await res.arrayBuffer()).equals(playable)).toBe(true);
  });

  test('first bytes: 206 with Content-Range', async () => {
    const res = await fetch(`${base}/media/m1/audio`, { headers: { Range: 'bytes=0-99' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 0-99/${playable.length}`);
    expect(res.headers.get('content-length')).toBe('100');
    expect(Buffer.from(await res.arrayBuffer()).equals(playable.subarray(0, 100))).toBe(true);
  });

  test('suffix range and open-ended range', async () => {
    let res = await fetch(`${base}/media/m1/audio`, { headers: { Range: 'bytes=-50' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes ${playable.length - 50}-${playable.length - 1}/${playable.length}`);
    expect(Buffer.from(await res.arrayBuffer()).equals(playable.subarray(playable.length - 50))).toBe(true);

    res = await fetch(`${base}/media/m1/audio`, { headers: { Range: 'bytes=1000-' } });
    expect(res.status).toBe(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(playable.subarray(1000))).toBe(true);
  });

  test('unsatisfiable range: 416 with Content-Range bytes */size', async () => {
    const res = await fetch(`${base}/media/m1/audio`, { headers: { Range: `bytes=${playable.length}-` } });
    expect(res.status).toBe(416);
    expect(res.headers.get('content-range')).toBe(`bytes */${playable.length}`);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('RANGE_NOT_SATISFIABLE');
  });

  test('malformed or multiple ranges get the whole file; a stale If-Range too', async () => {
    const cases: Array<Record<string, string>> = [{ Range: 'bytes=abc' }, { Range: 'bytes=0-10, 500-600' }, { Range: 'bytes=0-10', 'If-Range': '"stale"' }];
    for (const headers of cases) {
      const res = await fetch(`${base}/media/m1/audio`, { headers });
      expect(res.status).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBe(playable.length);
    }
  });

  // fetch adds `Cache-Control: no-cache` to conditional requests unless told otherwise, which rightly disables 304.
  test('a current If-Range keeps the range; If-None-Match answers 304; HEAD has no body', async () => {
    const etag = (await fetch(`${base}/media/m1/audio`, { method: 'HEAD' })).headers.get('etag')!;
    let res = await fetch(`${base}/media/m1/audio`, { headers: { Range: 'bytes=10-19', 'If-Range': etag } });
    expect(res.status).toBe(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(playable.subarray(10, 20))).toBe(true);
    res = await fetch(`${base}/media/m1/audio`, { headers: { 'If-None-Match': etag, 'Cache-Control': 'max-age=0' } });
    expect(res.status).toBe(304);
    res = await fetch(`${base}/media/m1/audio`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(playable.length));
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  test('unknown meeting: 404 NOT_FOUND; no media yet: 404 MEDIA_NOT_READY', async () => {
    let res = await fetch(`${base}/media/nope/audio`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    res = await fetch(`${base}/media/m-pending/peaks`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('MEDIA_NOT_READY');
  });

  test('peaks as JSON at the stored resolution equal computePeaks of the original', async () => {
    const res = await fetch(`${base}/media/m1/peaks`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const json = (await res.json()) as { sampleRate: number; samplesPerPeak: number; length: number; data: number[] };
    expect(json.sampleRate).toBe(16000);
    expect(json.samplesPerPeak).toBe(160);
    expect(json.length).toBe(Math.ceil(peaksReference.totalSamples / 160));
    expect(json.data).toEqual(Array.from(peaksReference.data));
  });

  test('peaks downsampled to 10 per second, as JSON and binary', async () => {
    const json = (await (await fetch(`${base}/media/m1/peaks?format=json&resolution=10`)).json()) as { samplesPerPeak: number; length: number; data: number[] };
    expect(json.samplesPerPeak).toBe(1600);
    expect(json.length).toBe(Math.ceil(peaksReference.totalSamples / 1600));
    // The first merged peak is the min of the first 10 stored mins and the max of their maxes.
    const first10 = Array.from(peaksReference.data.subarray(0, 20));
    expect(json.data.slice(0, 2)).toEqual([Math.min(...first10.filter((_, i) => i % 2 === 0)), Math.max(...first10.filter((_, i) => i % 2 === 1))]);

    const res = await fetch(`${base}/media/m1/peaks?format=bin&resolution=10`);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const bin = decodePeaks(new Uint8Array(await res.arrayBuffer()));
    expect(bin.samplesPerPeak).toBe(1600);
    expect(Array.from(bin.data)).toEqual(json.data);
  });

  test('bad peaks parameters: 400 INVALID_ARGUMENT', async () => {
    for (const query of ['format=xml', 'resolution=abc', 'resolution=0', 'format=json&format=bin']) {
      const res = await fetch(`${base}/media/m1/peaks?${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INVALID_ARGUMENT');
    }
  });

  test('a peaks file that is damaged: 500 INTERNAL, logged', async () => {
    writeFileSync(path.join(dir, 'garbage.dat'), 'not peaks');
    const garbage = new LocalBlobStore(dir);
    const app = express();
    app.use('/media', createMediaRouter({ blobs: garbage, lookup: async () => ({ peaksKey: 'garbage.dat' }) }));
    const errors: unknown[] = [];
    app.use(errorMiddleware((_m, err) => errors.push(err)));
    const other = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => other.once('listening', () => resolve()));
    try {
      const res = await fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/media/x/peaks`);
      expect(res.status).toBe(500);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('INTERNAL');
      expect(errors).toHaveLength(1);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
