/**
 * The platform end to end over HTTP and WebSocket against a real server on 127.0.0.1, on SQLite
 * and on PostgreSQL: upload → progress events → turns and stats → enroll a person from a clip →
 * reprocess → the person is identified; manual work survives reprocessing; bad input is refused
 * precisely and the server keeps serving.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { Engine } from '../server/src/diarization/engine';
import { ffmpeg, tempDir } from './helpers/media';
import { startTestServer, TestServer, uploadFile, waitFor } from './support/platform';

const DEV = path.resolve(__dirname, '../../shared/data/dev/diarization');
const SAMPLE = path.join(DEV, 'pyannote_sample.wav');

let engine: Engine;
const media = tempDir('e2e-media');
/** One voice only: speaker91 talks alone from 21.9 s to 27.8 s in the reference RTTM. */
const CLIP = path.join(media.dir, 'speaker91.wav');

beforeAll(async () => {
  engine = await Engine.create({ threads: 2 });
  ffmpeg(['-i', SAMPLE, '-ss', '21.9', '-to', '27.8', CLIP]);
});

afterAll(async () => {
  await engine.release();
  media.cleanup();
});

interface JobView {
  state: string;
  progress: number;
  errorCode?: string;
  errorMessage?: string;
}

const MEETING_VIEW = `id title status durationSeconds speakerCount audioUrl peaksUrl
  speakers { id label engineLabel talkTimeSeconds matchScore person { id name } }
  turns { totalCount nodes { id start end speaker { id label } } }
  stats { durationSeconds speechSeconds overlapSeconds silenceRatio turns interruptions speakers { talkTimeSeconds share turns } }`;

interface MeetingView {
  id: string;
  status: string;
  durationSeconds: number;
  speakerCount: number;
  audioUrl: string;
  peaksUrl: string;
  speakers: Array<{ id: string; label: string; talkTimeSeconds: number; matchScore: number | null; person: { id: string; name: string } | null }>;
  turns: { totalCount: number; nodes: Array<{ id: string; start: number; end: number; speaker: { id: string; label: string } }> };
  stats: { speechSeconds: number; overlapSeconds: number; turns: number; speakers: Array<{ talkTimeSeconds: number; share: number }> };
}

async function meeting(server: TestServer, id: string): Promise<MeetingView> {
  const res = await server.gql<{ meeting: MeetingView }>(`query($id: ID!) { meeting(id: $id) { ${MEETING_VIEW} } }`, { id });
  expect(res.errors).toBeUndefined();
  return res.data!.meeting;
}

async function waitForJob(server: TestServer, jobId: string): Promise<JobView> {
  return waitFor(`job ${jobId}`, async () => {
    const res = await server.gql<{ job: JobView }>('query($id: ID!) { job(id: $id) { state progress errorCode errorMessage } }', { id: jobId });
    const job = res.data!.job;
    return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.state) ? job : undefined;
  });
}

describe.each(['sqlite', 'postgres'] as const)('platform server on %s', (backend) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ backend, engine });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('diarizes an upload with live progress, then identifies an enrolled person after reprocessing', async () => {
    const upload = await uploadFile(server, SAMPLE);
    expect(upload.status).toBe(201);

    // Subscribe before creating the meeting, so no event is missed.
    const events: Array<{ state: string; progress: number; stage?: string; meetingId: string }> = [];
    const ws = server.ws();
    const done = new Promise<void>((resolve, reject) => {
      ws.subscribe<{ jobProgress: (typeof events)[number] }>(
        { query: 'subscription { jobProgress { jobId meetingId state stage progress } }' },
        {
          next: ({ data }) => {
            events.push(data!.jobProgress);
            if (['SUCCEEDED', 'FAILED'].includes(data!.jobProgress.state)) resolve();
          },
          error: reject,
          complete: () => undefined,
        },
      );
    });
    await new Promise((r) => setTimeout(r, 100));

    const created = await server.gql<{ createMeeting: { id: string; status: string; latestJob: { id: string } } }>(
      'mutation($input: CreateMeetingInput!) { createMeeting(input: $input) { id status latestJob { id } } }',
      { input: { uploadId: upload.body.id, title: 'Weekly sync', tags: ['demo', 'sync'], maxSpeakers: 4 } },
    );
    expect(created.errors).toBeUndefined();
    const meetingId = created.data!.createMeeting.id;
    await done;

    expect(events.every((e) => e.meetingId === meetingId)).toBe(true);
    expect(events[events.length - 1].state).toBe('SUCCEEDED');
    const running = events.filter((e) => e.state === 'RUNNING');
    expect(running.length).toBeGreaterThan(1);
    for (let i = 1; i < running.length; i++) expect(running[i].progress).toBeGreaterThanOrEqual(running[i - 1].progress);
    const stages = new Set(running.map((e) => e.stage));
    expect(stages.has('starting') || stages.has('ingest')).toBe(true);
    expect(stages.has('segmentation') || stages.has('clustering')).toBe(true);

    const first = await meeting(server, meetingId);
    expect(first.status).toBe('SUCCEEDED');
    expect(first.durationSeconds).toBeCloseTo(30, 0);
    expect(first.speakerCount).toBe(2);
    expect(first.turns.totalCount).toBeGreaterThan(3);
    expect(first.audioUrl).toBe(`/media/${meetingId}/audio`);
    // Stats agree with the turns: talk time sums, shares add to 1, overlap below speech.
    const talk = first.stats.speakers.reduce((s: number, x: { talkTimeSeconds: number }) => s + x.talkTimeSeconds, 0);
    expect(first.stats.speakers.reduce((s: number, x: { share: number }) => s + x.share, 0)).toBeCloseTo(1, 3);
    expect(first.stats.speechSeconds).toBeLessThanOrEqual(talk + 1e-6);
    expect(first.stats.overlapSeconds).toBeCloseTo(talk - first.stats.speechSeconds, 2);
    expect(first.stats.turns).toBe(first.turns.totalCount);

    // The playable copy is served with range requests.
    const audio = await fetch(`${server.url}${first.audioUrl}`, { headers: { authorization: `Bearer ${server.adminToken}`, range: 'bytes=0-99' } });
    expect(audio.status).toBe(206);
    expect((await audio.arrayBuffer()).byteLength).toBe(100);
    const peaks = await fetch(`${server.url}${first.peaksUrl}?format=json&resolution=10`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    const peaksJson = (await peaks.json()) as { length: number; data: number[] };
    expect(peaksJson.length).toBeGreaterThanOrEqual(299);
    expect(peaksJson.data.length).toBe(2 * peaksJson.length);

    // Manual work that must survive reprocessing: a name on the other speaker.
    const clipUpload = await uploadFile(server, CLIP);
    expect(clipUpload.status).toBe(201);
    const person = await server.gql<{ createPerson: { id: string } }>(
      'mutation { createPerson(input: { name: "Ada Lovelace", externalId: "crm-42" }) { id } }',
    );
    const personId = person.data!.createPerson.id;
    const enrolled = await server.gql<{ enrollFromUploads: Array<{ id: string; speechSeconds: number; source: string }> }>(
      'mutation($p: ID!, $u: [ID!]!) { enrollFromUploads(personId: $p, uploadIds: $u) { id speechSeconds source } }',
      { p: personId, u: [clipUpload.body.id] },
    );
    expect(enrolled.errors).toBeUndefined();
    expect(enrolled.data!.enrollFromUploads[0].speechSeconds).toBeCloseTo(5.9, 1);

    // The clip's speaker talks from 21.9 s to 27.8 s; the other speaker gets a name by hand.
    const clipSpeaker = first.turns.nodes.find((t) => t.start < 24 && t.end > 26)!.speaker.id;
    const other = first.speakers.find((s) => s.id !== clipSpeaker)!;
    const renamed = await server.gql<{ renameSpeaker: { label: string } }>(
      'mutation($id: ID!) { renameSpeaker(speakerId: $id, name: "Grace Hopper") { label } }',
      { id: other.id },
    );
    expect(renamed.data!.renameSpeaker.label).toBe('Grace Hopper');

    const batch = await server.gql<{ reprocess: { id: string; total: number } }>(
      'mutation($ids: [ID!]) { reprocess(input: { meetingIds: $ids, kind: DIARIZE }) { id total } }',
      { ids: [meetingId] },
    );
    expect(batch.errors).toBeUndefined();
    expect(batch.data!.reprocess.total).toBe(1);
    const batchId = batch.data!.reprocess.id;
    const finished = await waitFor('batch', async () => {
      const res = await server.gql<{ batch: { progress: number; succeeded: number; failed: number; notes: unknown[] } }>(
        'query($id: ID!) { batch(id: $id) { progress succeeded failed notes { message } } }',
        { id: batchId },
      );
      const b = res.data!.batch;
      return b.succeeded + b.failed === 1 ? b : undefined;
    });
    expect(finished).toMatchObject({ succeeded: 1, failed: 0, progress: 1 });

    const second = await meeting(server, meetingId);
    // Idempotent: the same turns and speakers again, not twice as many.
    expect(second.speakerCount).toBe(first.speakerCount);
    expect(second.turns.totalCount).toBe(first.turns.totalCount);
    const labels = second.speakers.map((s: { label: string }) => s.label).sort();
    expect(labels).toEqual(['Ada Lovelace', 'Grace Hopper']);
    const ada = second.speakers.find((s) => s.label === 'Ada Lovelace')!;
    expect(ada.person).toEqual({ id: personId, name: 'Ada Lovelace' });
    expect(ada.matchScore).toBeGreaterThan(0.5);

    // Filters by person and tag find it; the person page lists it.
    const byPerson = await server.gql<{ meetings: { totalCount: number } }>(
      'query($p: ID!) { meetings(filter: { personId: $p, tag: "sync" }) { totalCount } }',
      { p: personId },
    );
    expect(byPerson.data!.meetings.totalCount).toBe(1);
    const agg = await server.gql<{ stats: { meetings: number; people: Array<{ name: string; share: number }> } }>(
      '{ stats(filter: { tag: "demo" }) { meetings people { name share } } }',
    );
    expect(agg.data!.stats.meetings).toBe(1);
    expect(agg.data!.stats.people.map((p) => p.name)).toContain('Ada Lovelace');

    // Voice search finds the meeting from the clip.
    const found = await server.gql<{ findSpeaker: Array<{ meeting: { id: string }; speaker: { label: string }; ranges: Array<{ start: number }> }> }>(
      'query($u: ID!) { findSpeaker(uploadId: $u, first: 2) { meeting { id } speaker { label } similarity ranges { start end } } }',
      { u: clipUpload.body.id },
    );
    expect(found.errors).toBeUndefined();
    expect(found.data!.findSpeaker[0]).toMatchObject({ meeting: { id: meetingId }, speaker: { label: 'Ada Lovelace' } });
    expect(found.data!.findSpeaker[0].ranges.length).toBeGreaterThan(0);

    // Exports.
    const exported = await server.gql<{ meeting: { rttm: string; csv: string } }>(
      'query($id: ID!) { meeting(id: $id) { rttm: export(format: RTTM) csv: export(format: CSV) } }',
      { id: meetingId },
    );
    expect(exported.data!.meeting.rttm.trim().split('\n')).toHaveLength(second.turns.totalCount);
    expect(exported.data!.meeting.rttm).toContain('Ada_Lovelace');
    expect(exported.data!.meeting.csv.split('\n')[0]).toMatch(/start/i);

    // Consent withdrawn: deleting the person removes the match.
    const deleted = await server.gql<{ deletePerson: boolean }>('mutation($p: ID!) { deletePerson(id: $p) }', { p: personId });
    expect(deleted.data!.deletePerson).toBe(true);
    const after = await meeting(server, meetingId);
    expect(after.speakers.every((s: { person: unknown }) => s.person === null)).toBe(true);

    // Delete the meeting with its files.
    const del = await server.gql<{ deleteMeeting: boolean }>('mutation($id: ID!) { deleteMeeting(id: $id) }', { id: meetingId });
    expect(del.data!.deleteMeeting).toBe(true);
    expect((await server.gql<{ meeting: null }>('query($id: ID!) { meeting(id: $id) { id } }', { id: meetingId })).data!.meeting).toBeNull();
    const gone = await fetch(`${server.url}${first.audioUrl}`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    expect(gone.status).toBe(404);
  });

  it('refuses bad input precisely and keeps serving', async () => {
    // No token, bad token, read-only token on a mutation.
    expect((await server.gql('{ meetings { totalCount } }', undefined, '')).errors![0].extensions!.code).toBe('UNAUTHENTICATED');
    expect((await server.gql('{ meetings { totalCount } }', undefined, 'nope')).errors![0].extensions!.code).toBe('UNAUTHENTICATED');
    const created = await server.gql<{ createToken: { secret: string } }>(
      'mutation { createToken(name: "analytics", scope: READ) { secret token { scope } } }',
    );
    const readToken = created.data!.createToken.secret;
    expect((await server.gql<{ viewer: { scope: string } }>('{ viewer { scope } }', undefined, readToken)).data!.viewer.scope).toBe('READ');
    const denied = await server.gql('mutation { createPerson(input: { name: "X" }) { id } }', undefined, readToken);
    expect(denied.errors![0].extensions!.code).toBe('FORBIDDEN');
    expect((await uploadFile(server, CLIP, readToken)).status).toBe(403);

    // Uploads: empty, not audio.
    const dir = tempDir('bad-uploads');
    writeFileSync(path.join(dir.dir, 'empty.wav'), '');
    writeFileSync(path.join(dir.dir, 'notes.wav'), 'this is not audio at all\n'.repeat(100));
    const empty = await uploadFile(server, path.join(dir.dir, 'empty.wav'));
    expect(empty).toMatchObject({ status: 400, body: { error: { code: 'EMPTY_UPLOAD' } } });
    const text = await uploadFile(server, path.join(dir.dir, 'notes.wav'));
    expect(text.status).toBe(415);
    expect(text.body.error!.code).toBe('NOT_AUDIO');
    dir.cleanup();

    // Unknown ids, speaker counts.
    const unknown = await server.gql('mutation { createMeeting(input: { uploadId: "nope", title: "x" }) { id } }');
    expect(unknown.errors![0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    const upload = await uploadFile(server, CLIP);
    const negative = await server.gql('mutation($u: ID!) { createMeeting(input: { uploadId: $u, title: "x", numSpeakers: -2 }) { id } }', {
      u: upload.body.id,
    });
    expect(negative.errors![0].extensions!.code).toBe('INVALID_ARGUMENT');
    expect(negative.errors![0].message).toMatch(/numSpeakers/);
    const minMax = await server.gql('mutation($u: ID!) { createMeeting(input: { uploadId: $u, title: "x", minSpeakers: 5, maxSpeakers: 2 }) { id } }', {
      u: upload.body.id,
    });
    expect(minMax.errors![0].message).toMatch(/minSpeakers \(5\) is larger than maxSpeakers \(2\)/);
    // Nothing half-written: the upload is still free for a meeting.
    const ok = await server.gql<{ createMeeting: { id: string; latestJob: { id: string } } }>(
      'mutation($u: ID!) { createMeeting(input: { uploadId: $u, title: "clip" }) { id latestJob { id } } }',
      { u: upload.body.id },
    );
    expect(ok.errors).toBeUndefined();
    expect((await server.gql<{ meetings: { totalCount: number } }>('{ meetings { totalCount } }')).data!.meetings.totalCount).toBe(1);
    await waitForJob(server, ok.data!.createMeeting.latestJob.id);

    // Query limits: too deep, too complex; errors carry codes and no stack.
    const deep = await server.gql(
      '{ meetings { nodes { speakers { person { meetings { speakers { person { meetings { speakers { person { meetings { id } } } } } } } } } } } }',
    );
    expect(deep.errors![0].extensions!.code).toBe('QUERY_TOO_COMPLEX');
    expect(deep.errors![0].message).toMatch(/depth/);
    const complex = await server.gql('{ meetings(first: 100) { nodes { turns { nodes { id start end speaker { id label } } } } } }');
    expect(complex.errors![0].extensions!.code).toBe('QUERY_TOO_COMPLEX');
    expect(JSON.stringify(complex)).not.toMatch(/stacktrace|at .*\.ts:\d+/);
    // All turns of one meeting in one query stays within the limits.
    const allTurns = await server.gql('query($id: ID!) { meeting(id: $id) { turns { totalCount nodes { id start end speaker { id label } } } } }', {
      id: ok.data!.createMeeting.id,
    });
    expect(allTurns.errors).toBeUndefined();

    // Imports outside IMPORT_DIR are refused (and IMPORT_DIR unset says so).
    const imported = await server.gql('mutation { importMeetings(inputs: [{ path: "../../etc/passwd" }]) { id } }');
    expect(imported.errors![0].extensions!.code).toMatch(/IMPORT_DISABLED|FORBIDDEN_PATH/);

    const health = await fetch(`${server.url}/healthz`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', ok: true, database: 'ok' });
  });
});

describe('platform server restarts', () => {
  it('re-queues a job that was running when the server stopped, and finishes it after the restart', async () => {
    const first = await startTestServer({ backend: 'sqlite', engine });
    const upload = await uploadFile(first, SAMPLE);
    const created = await first.gql<{ createMeeting: { id: string; latestJob: { id: string } } }>(
      'mutation($u: ID!) { createMeeting(input: { uploadId: $u, title: "restart" }) { id latestJob { id } } }',
      { u: upload.body.id },
    );
    const jobId = created.data!.createMeeting.latestJob.id;
    await waitFor('the job to start', async () => ((await first.platform.store.getJob(jobId))?.state === 'RUNNING' ? true : undefined));
    await first.stop({ keepData: true });

    const second = await startTestServer({ backend: 'sqlite', engine, dataDir: first.dataDir });
    try {
      expect(second.platform.recoveredJobs).toBe(1);
      const job = await waitForJob(second, jobId);
      expect(job.state).toBe('SUCCEEDED');
      const res = await second.gql<{ meeting: { status: string; speakerCount: number; jobs: Array<{ attempts: number }> } }>(
        'query($id: ID!) { meeting(id: $id) { status speakerCount jobs { attempts } } }',
        { id: created.data!.createMeeting.id },
      );
      expect(res.data!.meeting).toMatchObject({ status: 'SUCCEEDED', speakerCount: 2 });
      expect(res.data!.meeting.jobs).toEqual([{ attempts: 2 }]);
    } finally {
      await second.stop();
    }
  });

  it('says precisely that the database is unreachable at start', async () => {
    await expect(startTestServer({ backend: 'sqlite', engine, config: { databaseUrl: 'postgres://postgres:secret@127.0.0.1:1/test' } })).rejects.toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
      message: expect.not.stringContaining('secret'),
    });
  });
});

describe('switching the embedding model', () => {
  it('refuses matching until a reprocessing batch has re-embedded what the previous model stored', async () => {
    // "Another model": the stand-in's file with one extra (unknown, ignored) protobuf field, so its hash differs.
    const { readFileSync } = await import('node:fs');
    const dir = tempDir('model-switch');
    const retrained = path.join(dir.dir, 'model.onnx');
    writeFileSync(
      retrained,
      Buffer.concat([readFileSync(path.resolve(__dirname, '../../shared/models/ge2e-resemblyzer-fbank80/model.onnx')), Buffer.from([0xa0, 0x06, 0x01])]),
    );
    const other = await Engine.create({ threads: 2, embeddingModel: retrained });
    expect(other.model.hash).not.toBe(engine.model.hash);

    const first = await startTestServer({ backend: 'sqlite', engine });
    const upload = await uploadFile(first, SAMPLE);
    const created = await first.gql<{ createMeeting: { id: string; latestJob: { id: string } } }>(
      'mutation($u: ID!) { createMeeting(input: { uploadId: $u, title: "switch" }) { id latestJob { id } } }',
      { u: upload.body.id },
    );
    const meetingId = created.data!.createMeeting.id;
    await waitForJob(first, created.data!.createMeeting.latestJob.id);
    const clip = await uploadFile(first, CLIP);
    const person = await first.gql<{ createPerson: { id: string } }>('mutation { createPerson(input: { name: "Switch Person" }) { id } }');
    await first.gql('mutation($p: ID!, $u: [ID!]!) { enrollFromUploads(personId: $p, uploadIds: $u) { id } }', {
      p: person.data!.createPerson.id,
      u: [clip.body.id],
    });
    await first.stop({ keepData: true });

    const second = await startTestServer({ backend: 'sqlite', engine: other, dataDir: first.dataDir });
    try {
      // Identification alone is refused, with what to do.
      const identify = await second.gql<{ reprocess: { jobs: Array<{ id: string }> } }>(
        'mutation($ids: [ID!]) { reprocess(input: { meetingIds: $ids, kind: IDENTIFY }) { jobs { id } } }',
        { ids: [meetingId] },
      );
      const refused = await waitForJob(second, identify.data!.reprocess.jobs[0].id);
      expect(refused).toMatchObject({ state: 'FAILED', errorCode: 'MODEL_SWITCH_PENDING' });
      expect(refused.errorMessage).toMatch(/reprocessing batch/);

      // Re-diarizing re-embeds the meeting and the clip enrollment; matching resumes.
      const diarize = await second.gql<{ reprocess: { jobs: Array<{ id: string }> } }>(
        'mutation($ids: [ID!]) { reprocess(input: { meetingIds: $ids, kind: DIARIZE }) { jobs { id } } }',
        { ids: [meetingId] },
      );
      expect((await waitForJob(second, diarize.data!.reprocess.jobs[0].id)).state).toBe('SUCCEEDED');
      const view = await meeting(second, meetingId);
      expect(view.speakers.map((s) => s.person?.name ?? null)).toContain('Switch Person');
      const enrollments = await second.platform.store.enrollmentsOfPerson(person.data!.createPerson.id);
      expect(enrollments).toHaveLength(1);
      expect(enrollments[0].modelHash).toBe(other.model.hash);
    } finally {
      await second.stop();
      await other.release();
      dir.cleanup();
    }
  });
});

describe('upload limits on a real server', () => {
  it('refuses a too-large upload and survives one cut off mid-stream, leaving no files or rows', async () => {
    const { readdirSync, existsSync, readFileSync } = await import('node:fs');
    const http = await import('node:http');
    const server = await startTestServer({ backend: 'sqlite', engine, config: { maxUploadBytes: 100_000 } });
    const leftovers = () => (existsSync(path.join(server.dataDir, 'uploads')) ? readdirSync(path.join(server.dataDir, 'uploads')) : []);
    try {
      const tooLarge = await uploadFile(server, SAMPLE);
      expect(tooLarge.status).toBe(413);
      expect(tooLarge.body.error!.code).toBe('UPLOAD_TOO_LARGE');
      expect(tooLarge.body.error!.message).toMatch(/limit/);

      // A client that promises 90 kB of multipart body, sends part of the file and hangs up.
      const port = Number(new URL(server.url).port);
      const boundary = 'cutoffboundary';
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.wav"\r\nContent-Type: audio/wav\r\n\r\n`;
      const req = http.request({
        host: '127.0.0.1',
        port,
        path: '/uploads',
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': 90_000 },
      });
      req.on('error', () => undefined);
      req.write(head);
      req.write(readFileSync(SAMPLE).subarray(0, 30_000));
      // The server is streaming it to disk …
      await waitFor('the partial upload on disk', async () => (leftovers().length > 0 ? true : undefined), 10_000);
      // … when the client hangs up.
      req.destroy();
      await waitFor('the partial upload to be cleaned up', async () => (leftovers().length === 0 ? true : undefined), 10_000);

      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      const small = tempDir('small-upload');
      const clip = path.join(small.dir, 'small.wav');
      ffmpeg(['-i', SAMPLE, '-t', '2', clip]);
      const ok = await uploadFile(server, clip);
      expect(ok.status).toBe(201);
      expect(leftovers()).toEqual([ok.body.id]);
      expect(await server.platform.store.getUpload(ok.body.id!)).toMatchObject({ id: ok.body.id });
      small.cleanup();
    } finally {
      await server.stop();
    }
  });
});
