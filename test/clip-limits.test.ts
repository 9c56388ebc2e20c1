/**
 * Clips for findSpeaker and enrollFromUploads are bounded before any work starts: a clip longer
 * than MAX_CLIP_SEC is refused by its probed duration without a decoder being started, an
 * unprobeable file is refused clearly, and the decode + embedding takes one of the job
 * concurrency's slots (a busy engine makes the request wait, then fail with CLIP_TASK_TIMEOUT).
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

import { decodersStarted } from '../server/src/audio';
import { Engine } from '../server/src/diarization/engine';
import { InProcessQueue } from '../server/src/jobs/in-process-queue';
import { ffmpeg, tempDir } from './helpers/media';
import { startTestServer, TestServer, uploadFile } from './support/platform';

jest.setTimeout(180_000);

const DEV = path.resolve(__dirname, '../../shared/data/dev/diarization');
const SAMPLE = path.join(DEV, 'pyannote_sample.wav');
const media = tempDir('clip-limits');
/** One voice: speaker91 alone from 21.9 s to 27.8 s. */
const CLIP = path.join(media.dir, 'speaker91.wav');
/** Two hours of a quiet tone in Ogg/Opus at 6 kb/s: about 5 MB to upload. */
const TWO_HOURS = path.join(media.dir, 'two-hours.ogg');

let engine: Engine;
let server: TestServer;
const WAIT_MS = 1500;

beforeAll(async () => {
  ffmpeg(['-i', SAMPLE, '-ss', '21.9', '-to', '27.8', CLIP]);
  // One minute encoded, then stream-copied 120 times: a real 2-hour file without 2 hours of encoding.
  const minute = path.join(media.dir, 'minute.ogg');
  ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=220:sample_rate=16000:duration=60', '-af', 'volume=0.05', '-c:a', 'libopus', '-b:a', '6k', minute]);
  ffmpeg(['-stream_loop', '119', '-i', minute, '-c', 'copy', TWO_HOURS]);
  engine = await Engine.create({ threads: 1 });
  server = await startTestServer({ backend: 'sqlite', engine, config: { jobConcurrency: 1, clipTaskTimeoutMs: WAIT_MS } });
});

afterAll(async () => {
  await server?.stop();
  await engine?.release();
  media.cleanup();
});

async function upload(file: string): Promise<string> {
  const res = await uploadFile(server, file);
  expect(res.status).toBe(201);
  return res.body.id!;
}

const FIND = 'query($u: ID!) { findSpeaker(uploadId: $u) { similarity } }';

it('findSpeaker with a 2-hour clip is refused by its probed duration before any decoder starts', async () => {
  const id = await upload(TWO_HOURS);
  const decoders = decodersStarted();
  const started = Date.now();
  const res = await server.gql(FIND, { u: id });
  expect(res.errors?.[0].extensions?.code).toBe('CLIP_TOO_LONG');
  expect(res.errors?.[0].message).toMatch(/120\.0 min long.*MAX_CLIP_SEC = 600 s/);
  expect(decodersStarted()).toBe(decoders);
  expect(Date.now() - started).toBeLessThan(2000);
});

it('enrollFromUploads with a short and a 2-hour clip enrolls nothing and decodes nothing', async () => {
  const person = await server.gql<{ createPerson: { id: string } }>('mutation { createPerson(input: { name: "Long talker" }) { id } }');
  const personId = person.data!.createPerson.id;
  const [short, long] = [await upload(CLIP), await upload(TWO_HOURS)];
  const decoders = decodersStarted();
  const res = await server.gql('mutation($p: ID!, $u: [ID!]!) { enrollFromUploads(personId: $p, uploadIds: $u) { id } }', { p: personId, u: [short, long] });
  expect(res.errors?.[0].extensions?.code).toBe('CLIP_TOO_LONG');
  expect(decodersStarted()).toBe(decoders);
  const after = await server.gql<{ person: { enrollments: unknown[] } }>('query($id: ID!) { person(id: $id) { enrollments { id } } }', { id: personId });
  expect(after.data!.person.enrollments).toEqual([]);
});

it('the file itself is probed before decoding: a stored clip replaced by a 2-hour one is refused, an unreadable one too', async () => {
  const swapped = await upload(CLIP);
  const record = (await server.platform.store.getUpload(swapped))!;
  copyFileSync(TWO_HOURS, path.join(server.dataDir, record.path)); // the row still says 5.9 s
  const decoders = decodersStarted();
  const long = await server.gql(FIND, { u: swapped });
  expect(long.errors?.[0].extensions?.code).toBe('CLIP_TOO_LONG');

  const broken = await upload(CLIP);
  writeFileSync(path.join(server.dataDir, (await server.platform.store.getUpload(broken))!.path), randomBytes(4096));
  const unreadable = await server.gql(FIND, { u: broken });
  expect(unreadable.errors?.[0].extensions?.code).toBe('INVALID_AUDIO');
  expect(unreadable.errors?.[0].message).toContain(`upload ${broken}`);
  expect(unreadable.errors?.[0].message).not.toContain(server.dataDir); // no server path in the answer
  expect(decodersStarted()).toBe(decoders);
  // The server keeps serving.
  expect((await server.gql('{ viewer { scope } }')).errors).toBeUndefined();
});

it('the clip takes a job slot: it waits while a job holds the only one, runs once it is free, and gives up with CLIP_TASK_TIMEOUT', async () => {
  const id = await upload(CLIP);
  const limiter = (server.platform.queue as InProcessQueue).limiter;
  // What a running diarization holds (JOB_CONCURRENCY = 1).
  let release = limiter.tryAcquire()!;
  expect(release).toBeDefined();
  const decoders = decodersStarted();
  const timedOut = await server.gql(FIND, { u: id });
  expect(timedOut.errors?.[0].extensions?.code).toBe('CLIP_TASK_TIMEOUT');
  expect(decodersStarted()).toBe(decoders);

  const waiting = server.gql(FIND, { u: id });
  await new Promise((r) => setTimeout(r, WAIT_MS / 3));
  expect(limiter.waiting).toBe(1);
  expect(decodersStarted()).toBe(decoders); // not decoded while the slot is taken
  release();
  const answered = await waiting;
  expect(answered.errors).toBeUndefined();
  expect(decodersStarted()).toBe(decoders + 1);
  expect(limiter.busy).toBe(0);

  release = limiter.tryAcquire()!;
  release();
});
