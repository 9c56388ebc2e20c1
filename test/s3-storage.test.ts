/**
 * Object storage against an S3-compatible server on this machine (moto in server mode, installed by
 * `.ci/run` into .venv-moto): the S3 BlobStore on its own (multipart upload, ranges, aborted writes,
 * prefixes), then the platform with STORAGE_URL=s3://... — upload, diarize, play a Range, delete the
 * meeting and its objects are gone; and the migration of an embedded deployment to PostgreSQL + S3.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CreateBucketCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';

import { Engine } from '../server/src/diarization/engine';
import { S3BlobStore, s3ClientConfig, parseS3Url } from '../server/src/storage/s3-blob-store';
import { migrateEmbedded } from '../server/src/storage/migrate-embedded';
import { POSTGRES_URL, startTestServer, TestServer, uploadFile, waitFor } from './support/platform';

const MOTO = path.resolve(__dirname, '../.venv-moto/bin/moto_server');
const SAMPLE = path.resolve(__dirname, '../../shared/data/dev/diarization/pyannote_sample.wav');
const haveMoto = existsSync(MOTO);
if (!haveMoto && (process.env.CI || process.env.REQUIRE_S3_TESTS))
  throw new Error(`moto_server is missing at .venv-moto/bin/moto_server; .ci/run installs it.`);
if (!haveMoto)
  console.warn(
    'Skipping the S3 storage tests: .venv-moto is absent. Install it with: python3 -m venv .venv-moto && .venv-moto/bin/pip install "moto[server]==5.1.4"',
  );
const describeS3 = haveMoto ? describe : describe.skip;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

async function read(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Uploads the sample, makes a meeting and waits for its diarization to succeed; returns the meeting id. */
async function diarizedMeeting(server: TestServer): Promise<string> {
  const upload = await uploadFile(server, SAMPLE);
  expect(upload.status).toBe(201);
  const created = await server.gql<{ createMeeting: { id: string; latestJob: { id: string } } }>(
    'mutation($u: ID!) { createMeeting(input: { uploadId: $u, title: "on S3" }) { id latestJob { id } } }',
    { u: upload.body.id },
  );
  expect(created.errors).toBeUndefined();
  const { id: meetingId, latestJob } = created.data!.createMeeting;
  const job = await waitFor('the diarization', async () => {
    const res = await server.gql<{ job: { state: string; errorMessage?: string } }>('query($id: ID!) { job(id: $id) { state errorMessage } }', {
      id: latestJob.id,
    });
    return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(res.data!.job.state) ? res.data!.job : undefined;
  });
  expect(job).toEqual({ state: 'SUCCEEDED', errorMessage: null });
  return meetingId;
}

async function meetingCounts(server: TestServer, id: string): Promise<{ speakerCount: number; turns: { totalCount: number } }> {
  const view = await server.gql<{ meeting: { speakerCount: number; turns: { totalCount: number } } }>(
    'query($id: ID!) { meeting(id: $id) { speakerCount turns { totalCount } } }',
    { id },
  );
  expect(view.errors).toBeUndefined();
  return view.data!.meeting;
}

describeS3('S3 object storage (moto)', () => {
  let moto: ChildProcess;
  let client: S3Client;
  const saved = { ...process.env };

  beforeAll(async () => {
    const port = await freePort();
    moto = spawn(MOTO, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: 'us-east-1',
    });
    await waitFor(
      'moto_server to listen',
      async () => {
        const ok = await fetch(`http://127.0.0.1:${port}/`).then(
          () => true,
          () => undefined,
        );
        return ok;
      },
      30_000,
    );
    client = new S3Client(s3ClientConfig());
  }, 60_000);

  afterAll(() => {
    client?.destroy();
    moto?.kill('SIGTERM');
    process.env = saved;
  });

  async function newStore(prefix = ''): Promise<S3BlobStore> {
    const bucket = `blobs-${randomBytes(4).toString('hex')}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    return new S3BlobStore(client, parseS3Url(`s3://${bucket}${prefix}`));
  }

  test('parses s3:// locations and refuses others with a clear message', () => {
    expect(parseS3Url('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    expect(parseS3Url('s3://my-bucket/a/b/')).toEqual({ bucket: 'my-bucket', prefix: 'a/b/' });
    expect(() => parseS3Url('s3://UPPER')).toThrow(/STORAGE_URL "s3:\/\/UPPER" is not an S3 location/);
    expect(() => parseS3Url('s3://bucket/../x')).toThrow(/not allowed/);
  });

  test('a 20 MiB streamed write is a multipart upload; whole and ranged reads return its bytes', async () => {
    const store = await newStore('/deploy1');
    const bytes = randomBytes(20 * 1024 * 1024);
    // Fed in 1 MiB pieces: the writer never needs the whole object at once.
    const pieces = Array.from({ length: 20 }, (_, i) => bytes.subarray(i << 20, (i + 1) << 20));
    await pipeline(Readable.from(pieces), store.createWriteStream('uploads/u1/original.wav'));
    expect(await store.listKeys()).toEqual(['uploads/u1/original.wav']);
    expect((await store.stat('uploads/u1/original.wav'))?.bytes).toBe(bytes.length);
    expect((await read(store.createReadStream('uploads/u1/original.wav'))).equals(bytes)).toBe(true);
    const ranged = await read(store.createReadStream('uploads/u1/original.wav', { start: 9_000_000, end: 9_000_099 }));
    expect(ranged.equals(bytes.subarray(9_000_000, 9_000_100))).toBe(true);
    const copied = await store.withLocalFile('uploads/u1/original.wav', async (file) => {
      expect(existsSync(file)).toBe(true);
      return file;
    });
    expect(existsSync(copied)).toBe(false); // the download is removed afterwards
  });

  test('a write destroyed before it finishes leaves no object; missing blobs stat undefined and read ENOENT', async () => {
    const store = await newStore();
    const writer = store.createWriteStream('uploads/u2/original.wav');
    await new Promise<void>((resolve) => writer.write(randomBytes(1000), () => resolve()));
    writer.on('error', () => undefined);
    writer.destroy(new Error('client went away'));
    await new Promise((resolve) => writer.on('close', resolve));
    expect(await store.stat('uploads/u2/original.wav')).toBeUndefined();
    expect(await store.listKeys()).toEqual([]);
    await expect(read(store.createReadStream('missing.bin'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(store.withLocalFile('missing.bin', async () => 1)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  test('removePrefix removes one folder and nothing beside it', async () => {
    const store = await newStore();
    for (const key of ['meetings/m1/playable.webm', 'meetings/m1/peaks.dat', 'meetings/m10/peaks.dat']) {
      await pipeline(Readable.from([Buffer.from(key)]), store.createWriteStream(key));
    }
    await store.removePrefix('meetings/m1/');
    expect(await store.listKeys()).toEqual(['meetings/m10/peaks.dat']);
    await store.remove('meetings/m10/peaks.dat');
    expect(await store.listKeys()).toEqual([]);
  });

  test('list names the objects under a folder; removeStalePartials aborts only multipart uploads begun before the cutoff', async () => {
    const store = await newStore('/sweep');
    await pipeline(Readable.from([Buffer.from('abc')]), store.createWriteStream('uploads/u1/a.wav'));
    await pipeline(Readable.from([Buffer.from('x')]), store.createWriteStream('meetings/m1/peaks.dat'));
    expect((await store.list('uploads')).map(({ key, bytes }) => ({ key, bytes }))).toEqual([{ key: 'uploads/u1/a.wav', bytes: 3 }]);
    // A killed process's upload: begun, never completed nor aborted.
    await client.send(new CreateMultipartUploadCommand({ Bucket: store.bucket, Key: store.objectKey('uploads/u2/original.wav') }));
    // The cutoff is compared with the server's own Initiated time (moto reports a fixed one).
    const [open] = (await client.send(new ListMultipartUploadsCommand({ Bucket: store.bucket }))).Uploads!;
    expect(await store.removeStalePartials('uploads', new Date(open.Initiated!.getTime() - 1000))).toBe(0);
    expect(await store.removeStalePartials('uploads', new Date(Date.now() + 60_000))).toBe(1);
    expect((await client.send(new ListMultipartUploadsCommand({ Bucket: store.bucket }))).Uploads ?? []).toEqual([]);
    expect(await store.listKeys()).toEqual(['meetings/m1/peaks.dat', 'uploads/u1/a.wav']);
  });

  describe('platform with STORAGE_URL=s3://', () => {
    let engine: Engine;
    let server: TestServer;
    let store: S3BlobStore;

    beforeAll(async () => {
      store = await newStore();
      engine = await Engine.create({ threads: 2 });
      server = await startTestServer({ backend: 'sqlite', engine, config: { storageUrl: `s3://${store.bucket}` } });
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
      await engine?.release();
    });

    test('upload, diarize, play a Range, delete the meeting: its objects are gone', async () => {
      const meetingId = await diarizedMeeting(server);
      const counts = await meetingCounts(server, meetingId);
      expect(counts.speakerCount).toBeGreaterThanOrEqual(2);
      expect(counts.turns.totalCount).toBeGreaterThan(0);
      const keys = await store.listKeys();
      expect(keys).toEqual(expect.arrayContaining([`meetings/${meetingId}/playable.webm`, `meetings/${meetingId}/peaks.dat`]));
      expect(keys.filter((k) => k.startsWith('uploads/'))).toEqual([expect.stringMatching(/^uploads\/[^/]+\/original\.wav$/)]);

      // Playback streams the object from S3, range included.
      const playable = await read(store.createReadStream(`meetings/${meetingId}/playable.webm`));
      const auth = { authorization: `Bearer ${server.adminToken}` };
      const ranged = await fetch(`${server.url}/media/${meetingId}/audio`, { headers: { ...auth, range: 'bytes=100-1099' } });
      expect(ranged.status).toBe(206);
      expect(ranged.headers.get('content-range')).toBe(`bytes 100-1099/${playable.length}`);
      expect(Buffer.from(await ranged.arrayBuffer()).equals(playable.subarray(100, 1100))).toBe(true);

      const deleted = await server.gql<{ deleteMeeting: boolean }>('mutation($id: ID!) { deleteMeeting(id: $id) }', { id: meetingId });
      expect(deleted.data?.deleteMeeting).toBe(true);
      expect(await store.listKeys()).toEqual([]);
      const gone = await fetch(`${server.url}/media/${meetingId}/audio`, { headers: auth });
      expect(gone.status).toBe(404);
    }, 300_000);
  });

  describe('npm run migrate:embedded (SQLite + local files → PostgreSQL + S3)', () => {
    let engine: Engine;
    beforeAll(async () => {
      engine = await Engine.create({ threads: 2 });
    }, 120_000);
    afterAll(async () => {
      await engine?.release();
    });

    test('a diarized embedded meeting serves the same from PostgreSQL + S3; a second run refuses the non-empty target', async () => {
      const embedded = await startTestServer({ backend: 'sqlite', engine });
      const meetingId = await diarizedMeeting(embedded);
      const before = await meetingCounts(embedded, meetingId);
      await embedded.stop({ keepData: true });

      const bucket = await newStore();
      const schema = `t_${randomBytes(6).toString('hex')}`;
      const toDatabase = `${POSTGRES_URL}?schema=${schema}`;
      const result = await migrateEmbedded({ dataDir: embedded.dataDir, toDatabase, toStorage: `s3://${bucket.bucket}` });
      expect(result.rows).toEqual(expect.objectContaining({ meetings: 1, uploads: 1, turns: before.turns.totalCount }));
      expect(result.blobs).toBe(3); // original, playable copy, peaks
      expect((await bucket.listKeys()).sort()).toEqual([
        expect.stringMatching(/^meetings\/.*\/peaks\.dat$/),
        expect.stringMatching(/^meetings\/.*\/playable\.webm$/),
        expect.stringMatching(/^uploads\//),
      ]);
      await expect(migrateEmbedded({ dataDir: embedded.dataDir, toDatabase, toStorage: `s3://${bucket.bucket}` })).rejects.toThrow(
        /already has rows in "uploads": migrate into an empty database/,
      );

      // The migrated deployment: PostgreSQL + S3 and a fresh, empty DATA_DIR (nothing read from the old one).
      const scaled = await startTestServer({ backend: 'postgres', pgSchema: schema, engine, config: { storageUrl: `s3://${bucket.bucket}` } });
      try {
        expect(await meetingCounts(scaled, meetingId)).toEqual(before);
        const ranged = await fetch(`${scaled.url}/media/${meetingId}/audio`, {
          headers: { authorization: `Bearer ${scaled.adminToken}`, range: 'bytes=0-99' },
        });
        expect(ranged.status).toBe(206);
        expect((await ranged.arrayBuffer()).byteLength).toBe(100);
        // New work on the migrated deployment: batch-note sequences and ids continue without clashes.
        const again = await diarizedMeeting(scaled);
        expect(again).not.toBe(meetingId);
      } finally {
        await scaled.stop();
        rmSync(embedded.dataDir, { recursive: true, force: true });
      }
    }, 400_000);
  });
});
