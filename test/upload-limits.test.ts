/**
 * Hardening of what clients can hold and what leaves the server (issue 13): upload idle timeout,
 * concurrent-upload cap, free-space refusal, the upload sweep, sanitised job errors, the
 * per-token socket cap, and no token in the log of a failing media request. Each case checks that
 * the server keeps serving afterwards.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { request, type ClientRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

import { Engine } from '../server/src/diarization/engine';
import { InvalidAudioError } from '../server/src/common/errors';
import { WebhookNotifier } from '../server/src/jobs/webhooks';
import { ffmpeg, tempDir } from './helpers/media';
import { startPlatformProcess, type Child } from './support/processes';
import { startTestServer, TestServer, uploadFile, waitFor } from './support/platform';

jest.setTimeout(180_000);

const media = tempDir('upload-limits');
const CLIP = path.join(media.dir, 'clip.wav');
let engine: Engine;

beforeAll(async () => {
  // Two tones, 4 s: a real recording for ffprobe, quick to ingest.
  ffmpeg([
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=220:duration=2',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=660:duration=2',
    '-filter_complex',
    'concat=n=2:v=0:a=1',
    '-ar',
    '16000',
    '-ac',
    '1',
    CLIP,
  ]);
  engine = await Engine.create({ threads: 1 });
});

afterAll(async () => {
  await engine?.release();
  media.cleanup();
});

afterEach(() => jest.restoreAllMocks());

/** Every file under the server's uploads/ folder (partial writes included). */
function uploadFiles(server: TestServer): string[] {
  const dir = path.join(server.dataDir, 'uploads');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

async function expectServing(server: TestServer) {
  const upload = await uploadFile(server, CLIP);
  expect(upload.status).toBe(201);
  expect((await server.gql('{ viewer { scope } }')).errors).toBeUndefined();
}

const BOUNDARY = 'upload-limits-boundary';

/** A multipart POST /uploads whose file part the test feeds by hand (chunked, no length). */
function slowUpload(server: TestServer) {
  const url = new URL(server.url);
  const req: ClientRequest = request({
    host: url.hostname,
    port: url.port,
    path: '/uploads',
    method: 'POST',
    headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'transfer-encoding': 'chunked' },
  });
  const outcome = new Promise<{ status?: number; body?: { error?: { code: string; message: string } }; error?: string; at: number }>((resolve) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : undefined, at: Date.now() }));
      res.on('error', () => resolve({ status: res.statusCode, at: Date.now() }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message, at: Date.now() }));
  });
  req.write(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="slow.wav"\r\nContent-Type: audio/wav\r\n\r\nR`);
  return { req, outcome };
}

describe('uploads', () => {
  it('cuts an upload that goes silent (UPLOAD_IDLE_TIMEOUT_S) and leaves no partial file', async () => {
    const server = await startTestServer({ backend: 'sqlite', engine, config: { uploadIdleTimeoutMs: 2000 } });
    try {
      const { req, outcome } = slowUpload(server);
      // A byte every 1.5 s keeps it alive (each gap is under the 2 s timeout) ...
      for (let i = 0; i < 2; i++) {
        await new Promise((r) => setTimeout(r, 1500));
        req.write('R');
      }
      await waitFor('the partial file', async () => (uploadFiles(server).some((f) => f.includes('.partial-')) ? true : undefined), 5000);
      const lastByte = Date.now();
      // ... then silence.
      const result = await outcome;
      expect(result.at - lastByte).toBeGreaterThanOrEqual(1900);
      expect(result.at - lastByte).toBeLessThan(6000);
      if (result.status !== undefined) {
        expect(result.status).toBe(408);
        expect(result.body!.error!.code).toBe('UPLOAD_IDLE_TIMEOUT');
        expect(result.body!.error!.message).toMatch(/sent nothing for 2 s \(UPLOAD_IDLE_TIMEOUT_S\)/);
      } else {
        expect(result.error).toMatch(/ECONNRESET|EPIPE|socket hang up/);
      }
      req.destroy();
      await waitFor('the partial file to go', async () => (uploadFiles(server).length === 0 ? true : undefined), 5000);
      await expectServing(server);
    } finally {
      await server.stop();
    }
  });

  it('answers the fifth concurrent upload with 429, a reason and Retry-After (MAX_CONCURRENT_UPLOADS=4)', async () => {
    const server = await startTestServer({ backend: 'sqlite', engine, config: { maxConcurrentUploads: 4 } });
    try {
      const open = Array.from({ length: 4 }, () => slowUpload(server));
      await waitFor('four uploads streaming', async () => (uploadFiles(server).length === 4 ? true : undefined), 10_000);
      const form = new FormData();
      form.append('file', new Blob([Buffer.from('RIFF')]), 'fifth.wav');
      const fifth = await fetch(`${server.url}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}` }, body: form });
      expect(fifth.status).toBe(429);
      expect(Number(fifth.headers.get('retry-after'))).toBeGreaterThan(0);
      const body = (await fifth.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('TOO_MANY_UPLOADS');
      expect(body.error.message).toMatch(/4 uploads at once \(MAX_CONCURRENT_UPLOADS\)/);
      // The four go away: their slots and partial files are freed.
      for (const u of open) u.req.destroy();
      await Promise.all(open.map((u) => u.outcome));
      await waitFor('partial files to go', async () => (uploadFiles(server).length === 0 ? true : undefined), 5000);
      await waitFor('a free slot', async () => ((await uploadFile(server, CLIP)).status === 201 ? true : undefined), 10_000);
      await expectServing(server);
    } finally {
      await server.stop();
    }
  });

  it('admits 25 concurrent uploads with the defaults (the scale-out test sends ~25 per API process)', async () => {
    const server = await startTestServer({ backend: 'sqlite', engine });
    try {
      expect(server.platform.config.maxConcurrentUploads).toBe(32);
      const statuses = await Promise.all(Array.from({ length: 25 }, () => uploadFile(server, CLIP).then((r) => r.status)));
      expect(statuses).toEqual(Array(25).fill(201));
    } finally {
      await server.stop();
    }
  });

  it('refuses an upload with 507 when the disk would keep less than MIN_FREE_DISK_MB', async () => {
    const server = await startTestServer({ backend: 'sqlite', engine, config: { minFreeDiskBytes: 1e18 } });
    try {
      const refused = await uploadFile(server, CLIP);
      expect(refused.status).toBe(507);
      expect(refused.body.error!.code).toBe('INSUFFICIENT_STORAGE');
      expect(refused.body.error!.message).toMatch(/MIN_FREE_DISK_MB/);
      expect(uploadFiles(server)).toEqual([]);
      expect((await server.gql('{ viewer { scope } }')).errors).toBeUndefined();
    } finally {
      await server.stop();
    }
  });

  it('stops an upload with 507 when the disk falls under MIN_FREE_DISK_MB while it streams, removes the partial file and keeps serving', async () => {
    const MiB = 1024 * 1024;
    const freeMiB = async () => {
      const stats = await statfs(os.tmpdir());
      return Math.floor((Number(stats.bavail) * Number(stats.bsize)) / MiB);
    };
    // The reserve sits 40 MiB under what is free now: the upload itself must use up the margin. Sending
    // up to 400 MiB (stopping at the answer) leaves room for other processes freeing a few MB meanwhile.
    const reserveMiB = (await freeMiB()) - 40;
    const server = await startTestServer({ backend: 'sqlite', engine, config: { minFreeDiskBytes: reserveMiB * MiB } });
    expect(path.relative(os.tmpdir(), server.dataDir).startsWith('..')).toBe(false); // on the file system measured above
    try {
      const { req, outcome } = slowUpload(server); // chunked: no declared length for the first check to count
      let answered = false;
      void outcome.then(() => (answered = true));
      const chunk = Buffer.alloc(MiB, 0x52);
      let sentMiB = 0;
      while (!answered && sentMiB < 400) {
        if (!req.write(chunk)) await Promise.race([new Promise((r) => req.once('drain', r)), outcome]);
        sentMiB += 1;
      }
      if (!answered) req.end(`\r\n--${BOUNDARY}--\r\n`);
      const result = await outcome;
      req.destroy();
      expect(result.status).toBe(507);
      expect(result.body!.error!.code).toBe('INSUFFICIENT_STORAGE');
      expect(result.body!.error!.message).toMatch(
        /ran low while the file arrived: \d+ MB free after \d+ MB of the upload.*\(MIN_FREE_DISK_MB\)\. The upload was stopped/,
      );
      expect(result.body!.error!.message).not.toContain(server.dataDir);
      // Stopped mid-stream: well before the 400 MiB were sent, after the 40 MiB margin was used up.
      expect(sentMiB).toBeGreaterThanOrEqual(30);
      expect(sentMiB).toBeLessThan(400);
      expect(uploadFiles(server)).toEqual([]);
      expect(await server.platform.store.unreferencedUploads(new Date(Date.now() + 3600_000).toISOString(), 10)).toEqual([]);
      // With the partial file gone the margin is back: a small upload and a query both work.
      await expectServing(server);
    } finally {
      await server.stop();
    }
  });
});

describe('upload sweep', () => {
  it('removes abandoned partial files, unused old uploads and unregistered folders; keeps what is used or recent', async () => {
    const server = await startTestServer({ backend: 'sqlite', engine, config: { uploadSweepIntervalMs: 0, uploadOrphanAgeMs: 24 * 3600_000 } });
    try {
      const { store } = server.platform;
      const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
      const folder = (id: string) => path.join(server.dataDir, 'uploads', id);
      const file = (id: string, name: string, old: boolean) => {
        mkdirSync(folder(id), { recursive: true });
        const p = path.join(folder(id), name);
        writeFileSync(p, 'audio');
        if (old) utimesSync(p, twoDaysAgo, twoDaysAgo);
        return p;
      };
      const row = async (id: string, createdAt: Date) =>
        store.insertUpload({
          id,
          originalName: 'a.wav',
          path: `uploads/${id}/a.wav`,
          bytes: 5,
          format: 'wav',
          durationSec: 1,
          createdAt: createdAt.toISOString(),
        });

      const orphan = randomUUID(); // old, nobody uses it
      const forMeeting = randomUUID();
      const forEnrollment = randomUUID();
      const recentOrphan = randomUUID(); // unused, but not old yet (a meeting may still be made from it)
      for (const id of [orphan, forMeeting, forEnrollment]) {
        file(id, 'a.wav', true);
        await row(id, twoDaysAgo);
      }
      file(recentOrphan, 'a.wav', false);
      await row(recentOrphan, new Date());
      await store.insertMeeting({ id: randomUUID(), title: 'kept', tags: [], uploadId: forMeeting, audioPath: `uploads/${forMeeting}/a.wav`, durationSec: 1 });
      const person = await store.insertPerson({ id: randomUUID(), name: 'Clip owner', metadata: {} });
      await store.insertEnrollment({
        id: randomUUID(),
        personId: person.id,
        source: 'clip',
        uploadId: forEnrollment,
        speechSec: 3,
        embedding: new Float32Array(engine.dim).fill(1 / Math.sqrt(engine.dim)),
        modelName: engine.model.name,
        modelHash: engine.model.hash,
      });
      const abandoned = randomUUID(); // a killed upload: only its partial file, two days untouched
      const abandonedPartial = file(abandoned, 'original.wav.partial-0123456789ab', true);
      const writing = randomUUID(); // an upload in progress: its partial file moves
      const writingPartial = file(writing, 'original.wav.partial-ba9876543210', false);
      const stray = randomUUID(); // written, never registered (a process died between the two)
      file(stray, 'original.wav', true);

      const report = await server.platform.uploadSweep.runOnce();
      expect(report).toEqual({ partials: 1, uploads: 1, strayFolders: 1 });

      expect(existsSync(folder(orphan))).toBe(false);
      expect(await store.getUpload(orphan)).toBeUndefined();
      expect(existsSync(abandonedPartial) || existsSync(folder(abandoned))).toBe(false);
      expect(existsSync(folder(stray))).toBe(false);
      for (const id of [forMeeting, forEnrollment, recentOrphan]) {
        expect(existsSync(path.join(folder(id), 'a.wav'))).toBe(true);
        expect(await store.getUpload(id)).toBeDefined();
      }
      expect(existsSync(writingPartial)).toBe(true);
      // Nothing left to do the second time.
      expect(await server.platform.uploadSweep.runOnce()).toEqual({ partials: 0, uploads: 0, strayFolders: 0 });
      await expectServing(server);
    } finally {
      await server.stop();
    }
  });
});

describe('job errors', () => {
  it('shows READ tokens and webhooks a message without server paths or addresses; the log has the full text', async () => {
    const logLines: string[] = [];
    const server = await startTestServer({ backend: 'sqlite', engine, log: (line) => logLines.push(line) });
    try {
      const created = await server.gql<{ createToken: { secret: string } }>('mutation { createToken(name: "reader", scope: READ) { secret } }');
      const readToken = created.data!.createToken.secret;
      const notified: Array<{ state: string; errorCode?: string; errorMessage?: string }> = [];
      jest.spyOn(WebhookNotifier.prototype, 'notify').mockImplementation((event) => void notified.push(event));

      const secretPath = '/srv/private-volume/customer-42/uploads/abc/original.wav';
      const failures = [
        new InvalidAudioError(`ffmpeg could not decode "${secretPath}" (moov atom not found); upload the recording again.`),
        Object.assign(new Error(`insert into "turns" values ($1) failed: connect ECONNREFUSED 10.20.30.40:5432 reading ${secretPath}`), {
          code: 'ECONNREFUSED',
        }),
      ];
      const views: Array<{ state: string; errorCode: string; errorMessage: string }> = [];
      for (const failure of failures) {
        jest.spyOn(engine, 'diarize').mockRejectedValueOnce(failure);
        const upload = await uploadFile(server, CLIP);
        const meeting = await server.gql<{ createMeeting: { latestJob: { id: string } } }>(
          'mutation($u: ID!) { createMeeting(input: { uploadId: $u, title: "fails" }) { latestJob { id } } }',
          { u: upload.body.id },
        );
        const jobId = meeting.data!.createMeeting.latestJob.id;
        views.push(
          await waitFor('the job to fail', async () => {
            const res = await server.gql<{ job: { state: string; errorCode: string; errorMessage: string } }>(
              'query($id: ID!) { job(id: $id) { state errorCode errorMessage } }',
              { id: jobId },
              readToken,
            );
            return res.data?.job.state === 'FAILED' ? res.data.job : undefined;
          }),
        );
      }

      expect(views[0].errorCode).toBe('INVALID_AUDIO');
      expect(views[0].errorMessage).toBe('ffmpeg could not decode "original.wav" (moov atom not found); upload the recording again.');
      expect(views[1].errorCode).toBe('INTERNAL');
      expect(views[1].errorMessage).toMatch(/^Unexpected error while processing \(ECONNREFUSED\)\. The server log has the details/);
      const finals = notified.filter((e) => e.state === 'FAILED');
      expect(finals.map((e) => e.errorMessage)).toEqual(views.map((v) => v.errorMessage));
      for (const text of [JSON.stringify(views), JSON.stringify(finals)]) {
        expect(text).not.toMatch(/private-volume|10\.20\.30\.40|5432|insert into/);
      }
      const log = logLines.join('\n');
      expect(log).toContain(`ffmpeg could not decode "${secretPath}"`);
      expect(log).toContain('connect ECONNREFUSED 10.20.30.40:5432');
      await expectServing(server);
    } finally {
      await server.stop();
    }
  });
});

describe('graphql-ws', () => {
  /** A raw graphql-transport-ws socket: resolves 'ack', or the close code and reason. */
  function connect(url: string, token: string): Promise<{ socket: WebSocket; result: 'ack' | { code: number; reason: string } }> {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    return new Promise((resolve) => {
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
      socket.on('message', (data) => {
        if (JSON.parse(String(data)).type === 'connection_ack') resolve({ socket, result: 'ack' });
      });
      socket.once('close', (code, reason) => resolve({ socket, result: { code, reason: reason.toString() } }));
    });
  }

  it('closes a token socket beyond WS_MAX_SOCKETS_PER_TOKEN with 4429; other tokens and freed slots still connect', async () => {
    const server = await startTestServer({ backend: 'sqlite', engine, config: { wsMaxSocketsPerToken: 2 } });
    try {
      const created = await server.gql<{ createToken: { secret: string } }>('mutation { createToken(name: "other", scope: READ) { secret } }');
      const first = await connect(server.wsUrl, server.adminToken);
      const second = await connect(server.wsUrl, server.adminToken);
      expect([first.result, second.result]).toEqual(['ack', 'ack']);
      const third = await connect(server.wsUrl, server.adminToken);
      expect(third.result).toEqual({ code: 4429, reason: expect.stringMatching(/2 sockets open \(WS_MAX_SOCKETS_PER_TOKEN\); close one first/) });
      const other = await connect(server.wsUrl, created.data!.createToken.secret);
      expect(other.result).toBe('ack');
      const closed = new Promise((r) => first.socket.once('close', r));
      first.socket.close();
      await closed;
      const again = await waitFor('a freed socket slot', async () => {
        const attempt = await connect(server.wsUrl, server.adminToken);
        return attempt.result === 'ack' ? attempt : undefined;
      });
      for (const s of [second, other, again]) s.socket.close();
      expect((await server.gql('{ viewer { scope } }')).errors).toBeUndefined();
    } finally {
      await server.stop();
    }
  });
});

describe('logs', () => {
  let child: Child | undefined;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'upload-limits-proc-'));
  afterAll(async () => {
    await child?.kill();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a media request with ?token= that fails with 500: the server process output never holds the token', async () => {
    const adminToken = `limits-admin-${'y'.repeat(20)}`;
    child = await startPlatformProcess('api', { DATA_DIR: dataDir, ADMIN_TOKEN: adminToken, ENGINE_THREADS: '1' });
    const gql = async <T>(query: string, variables?: Record<string, unknown>) => {
      const res = await fetch(`${child!.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
        body: JSON.stringify({ query, variables }),
      });
      return ((await res.json()) as { data: T }).data;
    };
    const readToken = (await gql<{ createToken: { secret: string } }>('mutation { createToken(name: "player", scope: READ) { secret } }')).createToken.secret;
    const upload = await uploadFile({ url: child.url, adminToken }, CLIP);
    const meetingId = (
      await gql<{ createMeeting: { id: string } }>('mutation($u: ID!) { createMeeting(input: { uploadId: $u, title: "log" }) { id } }', { u: upload.body.id })
    ).createMeeting.id;
    await waitFor('the peaks', async () => {
      const res = await fetch(`${child!.url}/media/${meetingId}/peaks`, { headers: { authorization: `Bearer ${adminToken}` } });
      return res.status === 200 ? true : undefined;
    });
    // The stored peaks get damaged under the running server: reading them is a server error.
    writeFileSync(path.join(dataDir, 'meetings', meetingId, 'peaks.dat'), 'not peaks at all');

    const failed = await fetch(`${child.url}/media/${meetingId}/peaks?format=json&token=${readToken}`);
    expect(failed.status).toBe(500);
    expect(((await failed.json()) as { error: { code: string } }).error.code).toBe('INTERNAL');
    await child.waitForLine(/GET \/media\/\S+ failed/, 10_000);
    const output = child.output();
    expect(output).toMatch(/token=\[redacted\]/);
    expect(output).toMatch(/cannot be read/); // the error itself is logged, not only the request
    expect(output).not.toContain(readToken);
    // Still serving, the same token included.
    expect((await fetch(`${child.url}/media/${meetingId}/audio?token=${readToken}`, { method: 'HEAD' })).status).toBe(200);
  });
});
