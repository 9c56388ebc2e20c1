import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Client } from 'pg';

import { AppError } from '../common/errors';
import { decodeCursor, encodeCursor } from './cursor';
import { dropPostgresSchema, openStore } from './database';
import { decodeVector, encodeVector } from './rows';
import type { MeetingOrder, MeetingRecord, MeetingSpeakerInsert, Store, TurnInsert } from './types';

// The same suite runs on both dialects. PostgreSQL runs on this machine (and in CI); each run
// works in a fresh schema and drops it afterwards.
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

/** Ids in (createdAt, id) order: records made in the same millisecond tie on the instant. */
function inCreationOrder(records: { id: string; createdAt: string }[]): string[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...records].sort((a, b) => cmp(a.createdAt, b.createdAt) || cmp(a.id, b.id)).map((r) => r.id);
}

/** Deterministic vector with values that are not round in binary (exactness check). */
function vector(seed: number, dim = 192): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = Math.sin(seed * 1000 + i * 0.37) / 3 + (i === 0 ? 1e-39 : 0);
  return v;
}

describe('store codecs', () => {
  it('writes embeddings as little-endian float32 and reads them back exactly', () => {
    const bytes = encodeVector(new Float32Array([1, -2, 0.5]));
    expect([...bytes]).toEqual([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x3f]);
    // An unaligned view (a Buffer from the pool) decodes too.
    const padded = Buffer.concat([Buffer.from([9]), bytes]).subarray(1);
    expect(decodeVector(padded)).toEqual(new Float32Array([1, -2, 0.5]));
    expect(() => decodeVector(Buffer.alloc(6))).toThrow(/multiple of 4/);
  });

  it('round-trips cursors and refuses foreign or forged ones', () => {
    const cursor = encodeCursor('turns', 12.5, 'a');
    expect(decodeCursor(cursor, 'turns', 'number')).toEqual({ value: 12.5, id: 'a' });
    expect(() => decodeCursor(cursor, 'meetings.title', 'string')).toThrow(/Invalid cursor/);
    expect(() => decodeCursor(encodeCursor('turns', 'x', 'a'), 'turns', 'number')).toThrow(/Invalid cursor/);
    expect(() => decodeCursor('not-base64-json', 'turns', 'number')).toThrow(/Invalid cursor/);
  });
});

describe('openStore', () => {
  it('reports an unreachable PostgreSQL with host, port and reason, never the password', async () => {
    const error = await rejection(openStore({ databaseUrl: 'postgres://app:s3cret-pw@127.0.0.1:1/platform', dataDir: os.tmpdir() }));
    expect(error.code).toBe('DATABASE_UNAVAILABLE');
    expect(error.message).toContain('Cannot connect to PostgreSQL at 127.0.0.1:1 (ECONNREFUSED)');
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).not.toContain('s3cret-pw');
  });

  it('names a missing database', async () => {
    const error = await rejection(openStore({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/no_such_db_for_store_spec', dataDir: os.tmpdir() }));
    expect(error.code).toBe('DATABASE_UNAVAILABLE');
    expect(error.message).toContain('has no database "no_such_db_for_store_spec" (3D000)');
  });

  it('refuses a URL of another database and a malformed schema name', async () => {
    const other = await rejection(openStore({ databaseUrl: 'mysql://root:pw@localhost/db', dataDir: os.tmpdir() }));
    expect(other.code).toBe('INVALID_ARGUMENT');
    expect(other.message).toContain('"mysql:"');
    expect(other.message).not.toContain('pw');
    const schema = await rejection(openStore({ databaseUrl: `${PG_URL}?schema=Bad-Name`, dataDir: os.tmpdir() }));
    expect(schema.code).toBe('INVALID_ARGUMENT');
    expect(schema.message).toContain('Invalid PostgreSQL schema "Bad-Name"');
  });

  it('reports a SQLite file that cannot be created', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'store-spec-')), 'not-a-dir');
    fs.writeFileSync(file, 'x');
    const error = await rejection(openStore({ dataDir: file }));
    expect(error.code).toBe('DATABASE_UNAVAILABLE');
    expect(error.message).toContain(path.join(file, 'platform.sqlite'));
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  it('isolates PostgreSQL schemas and drops them', async () => {
    const schema = `store_spec_iso_${process.pid}_${Date.now().toString(36)}`;
    const store = await openStore({ databaseUrl: `${PG_URL}?schema=${schema}`, dataDir: os.tmpdir() });
    await store.migrate();
    await store.insertUpload({ id: 'u1', originalName: 'a.wav', path: 'a', bytes: 1, format: 'wav', durationSec: 1, createdAt: new Date().toISOString() });
    await store.close();
    const client = new Client({ connectionString: PG_URL });
    await client.connect();
    try {
      const tables = await client.query('select table_name from information_schema.tables where table_schema = $1', [schema]);
      expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual(
        expect.arrayContaining(['uploads', 'meetings', 'turns', 'kysely_migration']),
      );
      await dropPostgresSchema(PG_URL, schema);
      const after = await client.query('select 1 from information_schema.schemata where schema_name = $1', [schema]);
      expect(after.rowCount).toBe(0);
    } finally {
      await client.end();
    }
  });
});

describe.each(['sqlite', 'postgres'] as const)('KyselyStore on %s', (kind) => {
  let store: Store;
  let dataDir: string;
  const schema = `store_spec_${process.pid}_${Date.now().toString(36)}`;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-spec-'));
    store = kind === 'sqlite' ? await openStore({ dataDir }) : await openStore({ databaseUrl: PG_URL, dataDir, schema });
    await store.migrate();
  });

  afterAll(async () => {
    await store?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (kind === 'postgres') await dropPostgresSchema(PG_URL, schema);
  });

  // ---- fixtures: unique ids per test, so tests never see each other's rows

  async function newUpload(bytes = 1234): Promise<string> {
    const id = randomUUID();
    await store.insertUpload({
      id,
      originalName: 'call.mp3',
      path: `uploads/${id}.mp3`,
      bytes,
      format: 'mp3',
      durationSec: 61.5,
      createdAt: new Date().toISOString(),
    });
    return id;
  }

  async function newMeeting(fields: Partial<{ title: string; tags: string[]; durationSec: number }> = {}): Promise<MeetingRecord> {
    const uploadId = await newUpload();
    return store.insertMeeting({
      id: randomUUID(),
      title: fields.title ?? 'Weekly sync',
      tags: fields.tags ?? [],
      uploadId,
      audioPath: `uploads/${uploadId}.mp3`,
      durationSec: fields.durationSec ?? 61.5,
    });
  }

  function speaker(meetingId: string, label: string, seed: number, extra: Partial<MeetingSpeakerInsert> = {}): MeetingSpeakerInsert {
    return { id: randomUUID(), meetingId, label, talkTimeSec: 10 + seed, centroid: vector(seed), modelName: 'ecapa', modelHash: 'hash-a', ...extra };
  }

  /** Alternating turns of the given speakers, 1.5 s each, 0.25 s apart. */
  function turns(meetingId: string, speakerIds: string[], n: number): TurnInsert[] {
    return Array.from({ length: n }, (_, i) => ({ meetingId, speakerId: speakerIds[i % speakerIds.length], startSec: i * 1.75, endSec: i * 1.75 + 1.5 }));
  }

  async function diarized(turnCount = 6): Promise<{ meeting: MeetingRecord; speakers: MeetingSpeakerInsert[] }> {
    const meeting = await newMeeting();
    const speakers = [speaker(meeting.id, 'SPEAKER_00', 1), speaker(meeting.id, 'SPEAKER_01', 2)];
    await store.writeDiarization({
      meetingId: meeting.id,
      durationSec: 120,
      speakers,
      turns: turns(
        meeting.id,
        speakers.map((s) => s.id),
        turnCount,
      ),
    });
    return { meeting, speakers };
  }

  async function newPerson(name: string, externalId?: string) {
    return store.insertPerson({ id: randomUUID(), name, externalId, metadata: { team: 'support', level: 2 } });
  }

  // ---- lifecycle

  it('migrates idempotently and answers ping', async () => {
    expect(store.kind).toBe(kind);
    await store.migrate();
    await expect(store.ping()).resolves.toBeUndefined();
  });

  // ---- uploads

  it('round-trips uploads (sizes beyond 32 bits) and deletes them', async () => {
    const upload = {
      id: randomUUID(),
      originalName: 'big.wav',
      path: 'uploads/big.wav',
      bytes: 3_000_000_123,
      format: 'wav',
      durationSec: 3600.25,
      createdAt: '2025-03-01T10:00:00.000Z',
    };
    await store.insertUpload(upload);
    expect(await store.getUpload(upload.id)).toEqual(upload);
    expect((await rejection(store.insertUpload(upload))).code).toBe('CONFLICT');
    await store.deleteUpload(upload.id);
    expect(await store.getUpload(upload.id)).toBeUndefined();
  });

  it('refuses to delete an upload a meeting uses, and to back two meetings with one upload', async () => {
    const meeting = await newMeeting();
    const inUse = await rejection(store.deleteUpload(meeting.uploadId));
    expect(inUse.code).toBe('CONFLICT');
    expect(inUse.message).toContain('delete the meeting first');
    const second = await rejection(
      store.insertMeeting({ id: randomUUID(), title: 'Again', tags: [], uploadId: meeting.uploadId, audioPath: 'x', durationSec: 1 }),
    );
    expect(second.code).toBe('CONFLICT');
    expect(await store.getUpload(meeting.uploadId)).toBeDefined();
  });

  // ---- meetings

  it('round-trips meetings, updates them and answers undefined for unknown ids', async () => {
    const uploadId = await newUpload();
    const created = await store.insertMeeting({
      id: randomUUID(),
      title: 'Quarterly Review',
      tags: ['sales', 'emea', 'sales'],
      uploadId,
      audioPath: 'uploads/q.mp3',
      playablePath: 'media/q.webm',
      durationSec: 1800.5,
      numSpeakers: 3,
      minSpeakers: 2,
      maxSpeakers: 4,
    });
    expect(created).toMatchObject({
      title: 'Quarterly Review',
      tags: ['sales', 'emea'],
      playablePath: 'media/q.webm',
      numSpeakers: 3,
      minSpeakers: 2,
      maxSpeakers: 4,
    });
    expect(created.latestJobId).toBeUndefined();
    expect(created.peaksPath).toBeUndefined();
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);
    expect(await store.getMeeting(created.id)).toEqual(created);
    expect(await store.meetingOfUpload(uploadId)).toEqual(created);
    expect(await store.meetingOfUpload('no-such-upload')).toBeUndefined();

    const job = await store.insertJob({ id: randomUUID(), kind: 'diarize', meetingId: created.id });
    await store.updateMeeting(created.id, { title: 'Q3 Review', tags: ['apac'], peaksPath: 'media/q.peaks', latestJobId: job.id, durationSec: 1799 });
    const updated = await store.getMeeting(created.id);
    expect(updated).toMatchObject({
      title: 'Q3 Review',
      tags: ['apac'],
      peaksPath: 'media/q.peaks',
      playablePath: 'media/q.webm',
      latestJobId: job.id,
      durationSec: 1799,
      numSpeakers: 3,
    });
    expect(updated!.updatedAt >= created.updatedAt).toBe(true);
    // The tag index follows the update.
    expect((await store.meetingIds({ tag: 'apac', ids: [created.id] })).length).toBe(1);
    expect((await store.meetingIds({ tag: 'sales', ids: [created.id] })).length).toBe(0);

    expect(await store.getMeeting('no-such-meeting')).toBeUndefined();
    await expect(store.updateMeeting('no-such-meeting', { title: 'x' })).resolves.toBeUndefined();
    expect(await store.getMeetings(['no-such-meeting', created.id, created.id])).toEqual([updated]);
    expect(await store.getMeetings([])).toEqual([]);
  });

  it('refuses a meeting on an unknown upload with NOT_FOUND', async () => {
    const error = await rejection(store.insertMeeting({ id: randomUUID(), title: 'x', tags: [], uploadId: 'no-such-upload', audioPath: 'x', durationSec: 1 }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('no-such-upload');
  });

  it('lists every distinct tag, sorted', async () => {
    const tag = `t-${randomUUID()}`;
    await newMeeting({ tags: [tag, `${tag}-b`] });
    await newMeeting({ tags: [tag] });
    const tags = await store.allTags();
    expect(tags.filter((t) => t.startsWith(tag))).toEqual([tag, `${tag}-b`]);
    expect([...tags].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(tags);
  });

  describe('meeting pages', () => {
    let scope: string;
    let all: MeetingRecord[];

    beforeAll(async () => {
      scope = `page-${randomUUID()}`;
      // Ties on duration and (case-folded) title; creation instants may tie as well.
      const specs = [
        { title: 'beta', durationSec: 30 },
        { title: 'Alpha', durationSec: 10 },
        { title: 'alpha', durationSec: 30 },
        { title: 'Éclair', durationSec: 20 },
        { title: 'gamma', durationSec: 30 },
        { title: 'Beta', durationSec: 10 },
        { title: 'delta', durationSec: 20 },
      ];
      all = [];
      for (const spec of specs) all.push(await newMeeting({ ...spec, tags: [scope] }));
    });

    const key = (m: MeetingRecord, field: MeetingOrder['field']): string | number =>
      field === 'title' ? m.title.toLowerCase() : field === 'durationSec' ? m.durationSec : m.createdAt;

    function expected(order: MeetingOrder): string[] {
      const sign = order.direction === 'ASC' ? 1 : -1;
      const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
      return [...all].sort((a, b) => sign * (cmp(key(a, order.field), key(b, order.field)) || cmp(a.id, b.id))).map((m) => m.id);
    }

    const orders: MeetingOrder[] = (['createdAt', 'title', 'durationSec'] as const).flatMap((field) =>
      (['ASC', 'DESC'] as const).map((direction) => ({ field, direction })),
    );

    it.each(orders)('pages by $field $direction with a stable tie-break', async (order) => {
      const seen: string[] = [];
      let after: string | undefined;
      const flags: boolean[] = [];
      for (let guard = 0; guard < 10; guard++) {
        const page = await store.listMeetings({ tag: scope }, order, 3, after);
        expect(page.totalCount).toBe(7);
        seen.push(...page.items.map((m) => m.id));
        flags.push(page.hasNextPage);
        if (!page.hasNextPage) break;
        after = page.endCursor;
      }
      expect(flags).toEqual([true, true, false]);
      expect(seen).toEqual(expected(order));
    });

    it('answers an empty page after the last item and a count-only page for first: 0', async () => {
      const order: MeetingOrder = { field: 'createdAt', direction: 'ASC' };
      const whole = await store.listMeetings({ tag: scope }, order, 100);
      expect(whole.items).toHaveLength(7);
      expect(whole.hasNextPage).toBe(false);
      const past = await store.listMeetings({ tag: scope }, order, 3, whole.endCursor);
      expect(past).toEqual({ items: [], endCursor: undefined, hasNextPage: false, totalCount: 7 });
      const none = await store.listMeetings({ tag: scope }, order, 0);
      expect(none).toEqual({ items: [], endCursor: undefined, hasNextPage: true, totalCount: 7 });
    });

    it('filters by title text case-insensitively, with LIKE wildcards taken literally', async () => {
      const order: MeetingOrder = { field: 'title', direction: 'ASC' };
      const alpha = await store.listMeetings({ tag: scope, text: 'ALPH' }, order, 10);
      expect(alpha.items.map((m) => m.title)).toEqual(expect.arrayContaining(['Alpha', 'alpha']));
      expect(alpha.totalCount).toBe(2);
      expect((await store.listMeetings({ tag: scope, text: 'éCLAIR' }, order, 10)).items.map((m) => m.title)).toEqual(['Éclair']);
      expect((await store.listMeetings({ tag: scope, text: 'a%' }, order, 10)).totalCount).toBe(0);
      expect((await store.listMeetings({ tag: scope, text: '_' }, order, 10)).totalCount).toBe(0);
    });

    it('filters by exact tag, ids and creation range', async () => {
      const order: MeetingOrder = { field: 'createdAt', direction: 'ASC' };
      expect((await store.listMeetings({ tag: scope.slice(0, -1) }, order, 10)).totalCount).toBe(0);
      const ids = [all[1].id, all[4].id, 'no-such-meeting'];
      expect((await store.listMeetings({ tag: scope, ids }, order, 10)).items.map((m) => m.id).sort()).toEqual([all[1].id, all[4].id].sort());
      expect((await store.listMeetings({ tag: scope, ids: [] }, order, 10)).totalCount).toBe(0);

      const sorted = [...all].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
      const from = sorted[2].createdAt;
      const to = sorted[5].createdAt;
      const inRange = all
        .filter((m) => m.createdAt >= from && m.createdAt < to)
        .map((m) => m.id)
        .sort();
      const page = await store.listMeetings({ tag: scope, createdFrom: from, createdTo: to }, order, 10);
      expect(page.items.map((m) => m.id).sort()).toEqual(inRange);
      expect((await store.meetingIds({ tag: scope, createdFrom: from, createdTo: to })).sort()).toEqual(inRange);
      expect((await store.meetingIds({ tag: scope, createdFrom: '2000-01-01' })).length).toBe(7);
    });

    it('refuses bad dates, cursors and page sizes with INVALID_ARGUMENT', async () => {
      const order: MeetingOrder = { field: 'createdAt', direction: 'ASC' };
      const date = await rejection(store.listMeetings({ createdFrom: 'yesterday' }, order, 10));
      expect(date.code).toBe('INVALID_ARGUMENT');
      expect(date.message).toContain('createdFrom "yesterday"');
      const first = await store.listMeetings({ tag: scope }, { field: 'title', direction: 'ASC' }, 2);
      const foreign = await rejection(store.listMeetings({ tag: scope }, order, 2, first.endCursor));
      expect(foreign.code).toBe('INVALID_ARGUMENT');
      expect((await rejection(store.listMeetings({}, order, 2, 'garbage'))).code).toBe('INVALID_ARGUMENT');
      expect((await rejection(store.listMeetings({}, order, -1))).code).toBe('INVALID_ARGUMENT');
    });
  });

  it('filters meetings by person through their assigned speakers', async () => {
    const person = await newPerson('Dana Reyes');
    const { meeting, speakers } = await diarized();
    await newMeeting();
    await store.updateSpeaker(speakers[1].id, { personId: person.id, personSource: 'manual' });
    const page = await store.listMeetings({ personId: person.id }, { field: 'createdAt', direction: 'DESC' }, 10);
    expect(page.items.map((m) => m.id)).toEqual([meeting.id]);
    expect(page.totalCount).toBe(1);
    expect(await store.meetingIds({ personId: person.id })).toEqual([meeting.id]);
  });

  it('deletes a meeting with its jobs, tags, speakers and turns; enrollments keep their voice', async () => {
    const tag = `del-${randomUUID()}`;
    const { speakers } = await diarized();
    const meetingId = speakers[0].meetingId;
    await store.updateMeeting(meetingId, { tags: [tag] });
    const job = await store.insertJob({ id: randomUUID(), kind: 'diarize', meetingId });
    const person = await newPerson('Kim');
    const enrollment = await store.insertEnrollment({
      id: randomUUID(),
      personId: person.id,
      source: 'speaker',
      meetingSpeakerId: speakers[0].id,
      speechSec: 12,
      embedding: vector(9),
      modelName: 'ecapa',
      modelHash: 'hash-a',
    });
    const someTurn = (await store.turnsOfMeeting(meetingId)).items[0];

    const deleted = await store.deleteMeeting(meetingId);
    expect(deleted?.id).toBe(meetingId);
    expect(deleted?.tags).toEqual([tag]);
    expect(await store.getMeeting(meetingId)).toBeUndefined();
    expect(await store.getJob(job.id)).toBeUndefined();
    expect(await store.jobsOfMeeting(meetingId)).toEqual([]);
    expect(await store.speakersOfMeeting(meetingId)).toEqual([]);
    expect(await store.countTurns(meetingId)).toBe(0);
    expect(await store.getTurn(someTurn.id)).toBeUndefined();
    expect(await store.allTags()).not.toContain(tag);
    const kept = await store.getEnrollment(enrollment.id);
    expect(kept?.meetingSpeakerId).toBeUndefined();
    expect(kept?.embedding).toEqual(vector(9));
    expect(await store.deleteMeeting(meetingId)).toBeUndefined();
  });

  // ---- jobs and batches

  it('creates, updates, clears and lists jobs', async () => {
    const meeting = await newMeeting();
    const job = await store.insertJob({ id: randomUUID(), kind: 'diarize', meetingId: meeting.id });
    expect(job).toMatchObject({ kind: 'diarize', meetingId: meeting.id, state: 'QUEUED', progress: 0, attempts: 0 });
    expect(job.batchId).toBeUndefined();
    expect(job.stage).toBeUndefined();
    expect(await store.getJob(job.id)).toEqual(job);

    const running = await store.updateJob(job.id, {
      state: 'RUNNING',
      stage: 'segmentation',
      progress: 0.25,
      attempts: 1,
      startedAt: '2025-03-01T10:00:00.000Z',
    });
    expect(running).toMatchObject({ state: 'RUNNING', stage: 'segmentation', progress: 0.25, attempts: 1, startedAt: '2025-03-01T10:00:00.000Z' });
    const failed = await store.updateJob(job.id, {
      state: 'FAILED',
      stage: null,
      errorCode: 'INVALID_AUDIO',
      errorMessage: 'Decoding failed.',
      finishedAt: '2025-03-01T10:01:00.000Z',
    });
    expect(failed).toMatchObject({ state: 'FAILED', errorCode: 'INVALID_AUDIO', errorMessage: 'Decoding failed.', progress: 0.25 });
    expect(failed?.stage).toBeUndefined();
    expect(await store.updateJob(job.id, {})).toEqual(failed);
    expect(await store.updateJob('no-such-job', { state: 'RUNNING' })).toBeUndefined();

    const second = await store.insertJob({ id: randomUUID(), kind: 'identify', meetingId: meeting.id });
    expect((await store.jobsOfMeeting(meeting.id)).map((j) => j.id)).toEqual(inCreationOrder([job, second]));
    const queued = await store.jobsInState(['QUEUED']);
    expect(queued.map((j) => j.id)).toContain(second.id);
    expect(queued.map((j) => j.id)).not.toContain(job.id);
    expect((await store.jobsInState(['FAILED', 'QUEUED'])).map((j) => j.id)).toEqual(expect.arrayContaining([job.id, second.id]));
    expect(await store.jobsInState([])).toEqual([]);
    expect((await store.getJobs([second.id, 'nope', job.id])).map((j) => j.id)).toEqual([second.id, job.id]);
    expect(await store.getJob('no-such-job')).toBeUndefined();
  });

  it('refuses a job for an unknown meeting with NOT_FOUND', async () => {
    const error = await rejection(store.insertJob({ id: randomUUID(), kind: 'diarize', meetingId: 'no-such-meeting' }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('no-such-meeting');
  });

  it('keeps batches with their jobs and notes in order', async () => {
    const batch = await store.insertBatch({ id: randomUUID(), kind: 'identify' });
    expect(batch).toMatchObject({ kind: 'identify', notes: [] });
    const [a, b] = [await newMeeting(), await newMeeting()];
    const jobA = await store.insertJob({ id: randomUUID(), kind: 'identify', meetingId: a.id, batchId: batch.id });
    const jobB = await store.insertJob({ id: randomUUID(), kind: 'identify', meetingId: b.id, batchId: batch.id });
    expect(jobA.batchId).toBe(batch.id);
    expect((await store.jobsOfBatch(batch.id)).map((j) => j.id)).toEqual(inCreationOrder([jobA, jobB]));
    await store.addBatchNotes(batch.id, [
      { meetingId: b.id, message: 'Speaker "Ana" had no match' },
      { meetingId: a.id, message: 'second' },
    ]);
    await store.addBatchNotes(batch.id, [{ meetingId: a.id, message: 'third' }]);
    await store.addBatchNotes(batch.id, []);
    const loaded = await store.getBatch(batch.id);
    expect(loaded).toEqual({
      ...batch,
      notes: [
        { meetingId: b.id, message: 'Speaker "Ana" had no match' },
        { meetingId: a.id, message: 'second' },
        { meetingId: a.id, message: 'third' },
      ],
    });
    expect(await store.getBatch('no-such-batch')).toBeUndefined();
    expect((await rejection(store.addBatchNotes('no-such-batch', [{ meetingId: a.id, message: 'x' }]))).code).toBe('NOT_FOUND');
    expect((await rejection(store.insertJob({ id: randomUUID(), kind: 'identify', meetingId: a.id, batchId: 'no-such-batch' }))).code).toBe('NOT_FOUND');
  });

  // ---- speakers and turns

  it('writes a diarization and reads speakers (exact centroids) and turns back', async () => {
    const { meeting, speakers } = await diarized(6);
    const stored = await store.speakersOfMeeting(meeting.id);
    expect(stored.map((s) => s.label)).toEqual(['SPEAKER_00', 'SPEAKER_01']);
    expect(stored[0]).toMatchObject({ id: speakers[0].id, meetingId: meeting.id, talkTimeSec: 11, modelName: 'ecapa', modelHash: 'hash-a' });
    expect(stored[0].centroid).toEqual(vector(1));
    expect(stored[0].centroid).toBeInstanceOf(Float32Array);
    expect(stored[0].personId).toBeUndefined();
    expect(await store.getSpeaker(speakers[1].id)).toEqual(stored[1]);
    expect(await store.getSpeakers([speakers[1].id, 'nope', speakers[0].id])).toEqual([stored[1], stored[0]]);
    expect(await store.getSpeaker('no-such-speaker')).toBeUndefined();
    expect((await store.getMeeting(meeting.id))?.durationSec).toBe(120);

    const all = await store.turnsOfMeeting(meeting.id);
    expect(all.totalCount).toBe(6);
    expect(all.hasNextPage).toBe(false);
    expect(all.items.map((t) => [t.startSec, t.endSec])).toEqual([0, 1.75, 3.5, 5.25, 7, 8.75].map((s) => [s, s + 1.5]));
    expect(all.items.map((t) => t.speakerId)).toEqual([0, 1, 0, 1, 0, 1].map((i) => speakers[i].id));
    expect(await store.getTurn(all.items[2].id)).toEqual(all.items[2]);
    expect(await store.getTurn('no-such-turn')).toBeUndefined();
    expect(await store.countTurns(meeting.id)).toBe(6);
  });

  it('replaces speakers and turns idempotently when a diarization is written again', async () => {
    const { meeting, speakers } = await diarized(6);
    const write = {
      meetingId: meeting.id,
      durationSec: 121,
      speakers,
      turns: turns(
        meeting.id,
        speakers.map((s) => s.id),
        6,
      ).map((t, i) => ({ ...t, id: `${meeting.id}-t${i}` })),
    };
    await store.writeDiarization(write);
    await store.writeDiarization(write);
    expect(await store.countTurns(meeting.id)).toBe(6);
    expect((await store.speakersOfMeeting(meeting.id)).map((s) => s.id)).toEqual(speakers.map((s) => s.id));

    // A new run with new speakers: the old ones are gone, nothing is duplicated.
    const fresh = [speaker(meeting.id, 'SPEAKER_00', 5), speaker(meeting.id, 'SPEAKER_01', 6), speaker(meeting.id, 'SPEAKER_02', 7)];
    await store.writeDiarization({
      meetingId: meeting.id,
      durationSec: 121,
      speakers: fresh,
      turns: turns(
        meeting.id,
        fresh.map((s) => s.id),
        9,
      ),
    });
    expect((await store.speakersOfMeeting(meeting.id)).map((s) => s.id)).toEqual(fresh.map((s) => s.id));
    expect(await store.countTurns(meeting.id)).toBe(9);
    expect(await store.getSpeaker(speakers[0].id)).toBeUndefined();
  });

  it('leaves the previous diarization intact when a write fails', async () => {
    const { meeting, speakers } = await diarized(4);
    const before = await store.turnsOfMeeting(meeting.id);
    const fresh = [speaker(meeting.id, 'SPEAKER_00', 8)];
    const duplicateTurns = turns(meeting.id, [fresh[0].id], 2).map((t) => ({ ...t, id: `${meeting.id}-same` }));
    const error = await rejection(store.writeDiarization({ meetingId: meeting.id, durationSec: 5, speakers: fresh, turns: duplicateTurns }));
    expect(error.code).toBe('CONFLICT');
    expect(await store.turnsOfMeeting(meeting.id)).toEqual(before);
    expect((await store.speakersOfMeeting(meeting.id)).map((s) => s.id)).toEqual(speakers.map((s) => s.id));
    expect((await store.getMeeting(meeting.id))?.durationSec).toBe(120);

    const stray = await rejection(
      store.writeDiarization({ meetingId: meeting.id, durationSec: 5, speakers: fresh, turns: turns(meeting.id, ['someone-else'], 1) }),
    );
    expect(stray.code).toBe('INVALID_ARGUMENT');
    expect((await rejection(store.writeDiarization({ meetingId: 'no-such-meeting', durationSec: 1, speakers: [], turns: [] }))).code).toBe('NOT_FOUND');
  });

  it('writes and reads 12 000 turns (chunked inserts, one query for all)', async () => {
    const meeting = await newMeeting({ durationSec: 4 * 3600 });
    const speakers = [0, 1, 2, 3].map((i) => speaker(meeting.id, `SPEAKER_0${i}`, 10 + i));
    const many = turns(
      meeting.id,
      speakers.map((s) => s.id),
      12_000,
    );
    await store.writeDiarization({ meetingId: meeting.id, durationSec: 4 * 3600, speakers, turns: many });
    expect(await store.countTurns(meeting.id)).toBe(12_000);
    const all = await store.turnsOfMeeting(meeting.id);
    expect(all.items).toHaveLength(12_000);
    expect(all.totalCount).toBe(12_000);
    expect(all.items[11_999].startSec).toBe(11_999 * 1.75);
    expect(all.items.every((t, i) => i === 0 || t.startSec > all.items[i - 1].startSec)).toBe(true);
    const page = await store.turnsOfMeeting(meeting.id, {}, 500);
    expect(page.items).toHaveLength(500);
    expect(page.hasNextPage).toBe(true);
    expect(page.totalCount).toBe(12_000);
  });

  it('pages turns in time order across ties and keeps turns overlapping [from, to)', async () => {
    const meeting = await newMeeting();
    const speakers = [speaker(meeting.id, 'SPEAKER_00', 1), speaker(meeting.id, 'SPEAKER_01', 2)];
    const [a, b] = speakers.map((s) => s.id);
    // Three turns start at 2.0 s (overlapping speech): the id breaks the tie.
    const spec: TurnInsert[] = [
      { id: 'k', meetingId: meeting.id, speakerId: a, startSec: 0, endSec: 2 },
      { id: 'c', meetingId: meeting.id, speakerId: b, startSec: 2, endSec: 3 },
      { id: 'a', meetingId: meeting.id, speakerId: a, startSec: 2, endSec: 4 },
      { id: 'b', meetingId: meeting.id, speakerId: b, startSec: 2, endSec: 2.5 },
      { id: 'z', meetingId: meeting.id, speakerId: a, startSec: 5, endSec: 6 },
    ].map((t) => ({ ...t, id: `${meeting.id}-${t.id}` }));
    await store.writeDiarization({ meetingId: meeting.id, durationSec: 6, speakers, turns: spec });
    const order = ['k', 'a', 'b', 'c', 'z'].map((s) => `${meeting.id}-${s}`);

    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await store.turnsOfMeeting(meeting.id, {}, 2, after);
      expect(page.totalCount).toBe(5);
      seen.push(...page.items.map((t) => t.id));
      if (!page.hasNextPage) break;
      after = page.endCursor;
    }
    expect(seen).toEqual(order);

    // The rest after a cursor, without a page size.
    const firstTwo = await store.turnsOfMeeting(meeting.id, {}, 2);
    const rest = await store.turnsOfMeeting(meeting.id, {}, undefined, firstTwo.endCursor);
    expect(rest.items.map((t) => t.id)).toEqual(order.slice(2));
    expect(rest.totalCount).toBe(5);

    // [2, 5): the turn ending exactly at 2 and the one starting at 5 are out.
    const ranged = await store.turnsOfMeeting(meeting.id, { from: 2, to: 5 });
    expect(ranged.items.map((t) => t.id)).toEqual(order.slice(1, 4));
    expect(ranged.totalCount).toBe(3);
    expect((await store.turnsOfMeeting(meeting.id, { from: 2.6 })).items.map((t) => t.id)).toEqual([order[1], order[3], order[4]]);
    expect((await store.turnsOfMeeting(meeting.id, { to: 0.5 })).items.map((t) => t.id)).toEqual([order[0]]);
    expect((await store.turnsOfMeeting('no-such-meeting')).totalCount).toBe(0);
  });

  it('edits turns in one transaction: delete, reassign, move, insert', async () => {
    const { meeting, speakers } = await diarized(6);
    const [a, b] = speakers.map((s) => s.id);
    const c = speaker(meeting.id, 'SPEAKER_02', 3);
    await store.insertSpeaker(c);
    const before = (await store.turnsOfMeeting(meeting.id)).items;

    await store.editTurns(meeting.id, {
      deleteIds: [before[0].id],
      insert: [
        { meetingId: meeting.id, speakerId: c.id, startSec: 0, endSec: 0.75 },
        { meetingId: meeting.id, speakerId: a, startSec: 0.75, endSec: 1.5 },
      ],
      reassign: { fromSpeakerId: b, toSpeakerId: a },
      move: { turnId: before[2].id, toSpeakerId: c.id },
    });
    const after = (await store.turnsOfMeeting(meeting.id)).items;
    expect(after).toHaveLength(7);
    expect(after.map((t) => [t.startSec, t.speakerId])).toEqual([
      [0, c.id],
      [0.75, a],
      [1.75, a],
      [3.5, c.id],
      [5.25, a],
      [7, a],
      [8.75, a],
    ]);
    // With no turns left, speaker b can go.
    await store.deleteSpeaker(b);
    expect(await store.getSpeaker(b)).toBeUndefined();
  });

  it('rolls an edit back entirely when one part fails', async () => {
    const { meeting, speakers } = await diarized(4);
    const before = await store.turnsOfMeeting(meeting.id);
    const missing = await rejection(
      store.editTurns(meeting.id, { deleteIds: [before.items[0].id], move: { turnId: 'no-such-turn', toSpeakerId: speakers[0].id } }),
    );
    expect(missing.code).toBe('NOT_FOUND');
    expect(missing.message).toContain('no-such-turn');
    expect(await store.turnsOfMeeting(meeting.id)).toEqual(before);

    // A speaker of another meeting is not a valid target.
    const other = await diarized(1);
    const foreign = await rejection(
      store.editTurns(meeting.id, { deleteIds: [before.items[0].id], reassign: { fromSpeakerId: speakers[0].id, toSpeakerId: other.speakers[0].id } }),
    );
    expect(foreign.code).toBe('NOT_FOUND');
    expect(await store.turnsOfMeeting(meeting.id)).toEqual(before);
    expect((await rejection(store.editTurns('no-such-meeting', {}))).code).toBe('NOT_FOUND');
  });

  it('refuses to delete a speaker that still has turns', async () => {
    const { speakers } = await diarized(2);
    const error = await rejection(store.deleteSpeaker(speakers[0].id));
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toContain('still has turns');
    expect(await store.getSpeaker(speakers[0].id)).toBeDefined();
  });

  it('updates and clears speaker fields, and finds speakers by person and model', async () => {
    const person = await newPerson('Ana Lima');
    const { meeting, speakers } = await diarized(2);
    const other = speaker(meeting.id, 'SPEAKER_09', 4, { modelHash: `hash-${randomUUID()}`, personId: person.id, personSource: 'auto', matchScore: 0.71 });
    await store.insertSpeaker(other);
    await store.updateSpeaker(speakers[0].id, {
      displayName: 'Ana',
      personId: person.id,
      personSource: 'manual',
      matchScore: 0.83,
      talkTimeSec: 42.5,
      centroid: vector(77),
    });
    const updated = await store.getSpeaker(speakers[0].id);
    expect(updated).toMatchObject({ displayName: 'Ana', personId: person.id, personSource: 'manual', matchScore: 0.83, talkTimeSec: 42.5 });
    expect(updated?.centroid).toEqual(vector(77));
    expect((await store.speakersOfPerson(person.id)).map((s) => s.id).sort()).toEqual([speakers[0].id, other.id].sort());

    await store.updateSpeaker(speakers[0].id, { displayName: null, matchScore: null });
    const cleared = await store.getSpeaker(speakers[0].id);
    expect(cleared?.displayName).toBeUndefined();
    expect(cleared?.matchScore).toBeUndefined();
    expect(cleared?.personId).toBe(person.id);
    await store.updateSpeaker(speakers[0].id, {});

    expect((await store.speakersOfModel(other.modelHash)).map((s) => s.id)).toEqual([other.id]);
    const everyone = await store.countSpeakersNotOfModel(`other-${randomUUID()}`);
    expect(everyone).toBeGreaterThanOrEqual(3);
    expect(await store.countSpeakersNotOfModel(other.modelHash)).toBe(everyone - 1);

    expect((await rejection(store.updateSpeaker(speakers[1].id, { personId: 'no-such-person' }))).code).toBe('NOT_FOUND');
    expect((await rejection(store.insertSpeaker(speaker('no-such-meeting', 'SPEAKER_00', 1)))).code).toBe('NOT_FOUND');
    expect((await rejection(store.insertSpeaker(other))).code).toBe('CONFLICT');
  });

  // ---- people and enrollments

  it('round-trips people and pages them by name', async () => {
    const prefix = `p${randomUUID().slice(0, 8)}`;
    const names = ['Carla', 'bruno', 'Ana', 'ana', 'Émile'];
    const people = [];
    for (const name of names) people.push(await newPerson(`${prefix} ${name}`, `${prefix}-${name}`));
    expect(people[0]).toMatchObject({ name: `${prefix} Carla`, externalId: `${prefix}-Carla`, metadata: { team: 'support', level: 2 } });
    expect(await store.getPerson(people[0].id)).toEqual(people[0]);
    expect(await store.getPerson('no-such-person')).toBeUndefined();
    expect(await store.getPeople([people[2].id, 'nope', people[0].id])).toEqual([people[2], people[0]]);

    const seen: string[] = [];
    let after: string | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await store.listPeople({ text: prefix.toUpperCase() }, 2, after);
      expect(page.totalCount).toBe(5);
      seen.push(...page.items.map((p) => p.id));
      if (!page.hasNextPage) break;
      after = page.endCursor;
    }
    const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
    const expected = [...people].sort((x, y) => cmp(x.name.toLowerCase(), y.name.toLowerCase()) || cmp(x.id, y.id)).map((p) => p.id);
    expect(seen).toEqual(expected);
    expect((await store.listPeople({ text: `${prefix}-bruno` }, 10)).items.map((p) => p.id)).toEqual([people[1].id]);
    expect((await store.listPeople({ text: `${prefix}-BRUNO` }, 10)).totalCount).toBe(0);

    await store.updatePerson(people[0].id, { name: 'Zoe', externalId: 'crm-9', metadata: { vip: true } });
    expect(await store.getPerson(people[0].id)).toMatchObject({ name: 'Zoe', externalId: 'crm-9', metadata: { vip: true } });
    expect((await rejection(store.insertPerson({ id: people[1].id, name: 'dup', metadata: {} }))).code).toBe('CONFLICT');
  });

  it('round-trips enrollments with exact embeddings and lists them by person and model', async () => {
    const person = await newPerson('Lee');
    const uploadId = await newUpload();
    const model = `hash-${randomUUID()}`;
    const first = await store.insertEnrollment({
      id: randomUUID(),
      personId: person.id,
      source: 'clip',
      uploadId,
      speechSec: 8.5,
      embedding: vector(3),
      modelName: 'ecapa',
      modelHash: model,
    });
    const second = await store.insertEnrollment({
      id: randomUUID(),
      personId: person.id,
      source: 'clip',
      speechSec: 4,
      embedding: vector(4),
      modelName: 'ecapa',
      modelHash: 'hash-a',
    });
    expect(first).toMatchObject({ personId: person.id, source: 'clip', uploadId, speechSec: 8.5, modelName: 'ecapa', modelHash: model });
    expect(first.embedding).toEqual(vector(3));
    expect(await store.getEnrollment(first.id)).toEqual(first);
    expect(await store.getEnrollment('no-such-enrollment')).toBeUndefined();
    expect((await store.enrollmentsOfPerson(person.id)).map((e) => e.id)).toEqual(inCreationOrder([first, second]));
    expect(await store.enrollmentsOfModel(model)).toEqual([first]);
    const notOfModel = await store.countEnrollmentsNotOfModel(model);
    expect(notOfModel).toBeGreaterThanOrEqual(1);
    expect(await store.countEnrollmentsNotOfModel(`other-${randomUUID()}`)).toBe(notOfModel + 1);

    expect(await store.deleteEnrollment(second.id)).toEqual(second);
    expect(await store.deleteEnrollment(second.id)).toBeUndefined();
    expect(await store.enrollmentsOfPerson(person.id)).toEqual([first]);
    const unknown = await rejection(store.insertEnrollment({ ...first, id: randomUUID(), personId: 'no-such-person' }));
    expect(unknown.code).toBe('NOT_FOUND');
  });

  it('deletes a person with every enrollment and unassigns their speakers', async () => {
    const person = await newPerson('Withdrawn Consent');
    const keep = await newPerson('Someone Else');
    const { meeting, speakers } = await diarized(2);
    await store.updateSpeaker(speakers[0].id, { personId: person.id, personSource: 'auto', matchScore: 0.9, displayName: 'W.' });
    await store.updateSpeaker(speakers[1].id, { personId: keep.id, personSource: 'manual' });
    const enrollment = await store.insertEnrollment({
      id: randomUUID(),
      personId: person.id,
      source: 'speaker',
      meetingSpeakerId: speakers[0].id,
      speechSec: 3,
      embedding: vector(5),
      modelName: 'ecapa',
      modelHash: 'hash-a',
    });

    const deleted = await store.deletePerson(person.id);
    expect(deleted).toEqual(person);
    expect(await store.getPerson(person.id)).toBeUndefined();
    expect(await store.getEnrollment(enrollment.id)).toBeUndefined();
    expect(await store.enrollmentsOfPerson(person.id)).toEqual([]);
    const unassigned = await store.getSpeaker(speakers[0].id);
    expect(unassigned?.personId).toBeUndefined();
    expect(unassigned?.personSource).toBeUndefined();
    expect(unassigned?.matchScore).toBeUndefined();
    expect((await store.getSpeaker(speakers[1].id))?.personId).toBe(keep.id);
    expect(await store.meetingIds({ personId: person.id })).toEqual([]);
    expect(await store.meetingIds({ personId: keep.id })).toEqual([meeting.id]);
    expect(await store.deletePerson(person.id)).toBeUndefined();
  });

  // ---- tokens

  it('stores tokens by hash and revokes them idempotently', async () => {
    const hash = `sha256-${randomUUID()}`;
    const token = await store.insertToken({ id: randomUUID(), name: 'analytics', tokenHash: hash, scope: 'read', webhookUrl: 'https://hooks.example/jobs' });
    expect(token).toMatchObject({ name: 'analytics', tokenHash: hash, scope: 'read', webhookUrl: 'https://hooks.example/jobs' });
    expect(token.revokedAt).toBeUndefined();
    expect(await store.tokenByHash(hash)).toEqual(token);
    expect(await store.tokenByHash('no-such-hash')).toBeUndefined();
    expect((await store.listTokens()).map((t) => t.id)).toContain(token.id);

    const revoked = await store.revokeToken(token.id);
    expect(revoked?.revokedAt).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await store.revokeToken(token.id))?.revokedAt).toBe(revoked?.revokedAt);
    expect((await store.tokenByHash(hash))?.revokedAt).toBe(revoked?.revokedAt);
    expect(await store.revokeToken('no-such-token')).toBeUndefined();
    expect((await rejection(store.insertToken({ id: randomUUID(), name: 'dup', tokenHash: hash, scope: 'admin' }))).code).toBe('CONFLICT');
  });

  // ---- transactions

  it('rolls a transaction back entirely on a throw, and commits otherwise', async () => {
    const uploadId = randomUUID();
    const meetingId = randomUUID();
    await expect(
      store.transaction(async (tx) => {
        await tx.insertUpload({ id: uploadId, originalName: 'a.wav', path: 'a', bytes: 1, format: 'wav', durationSec: 1, createdAt: new Date().toISOString() });
        await tx.insertMeeting({ id: meetingId, title: 'rolled back', tags: ['rb'], uploadId, audioPath: 'a', durationSec: 1 });
        // Nested calls join the same transaction.
        await tx.transaction((inner) => inner.insertJob({ id: randomUUID(), kind: 'diarize', meetingId }));
        expect(await tx.getMeeting(meetingId)).toBeDefined();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.getUpload(uploadId)).toBeUndefined();
    expect(await store.getMeeting(meetingId)).toBeUndefined();
    expect(await store.jobsOfMeeting(meetingId)).toEqual([]);

    const result = await store.transaction(async (tx) => {
      await tx.insertUpload({ id: uploadId, originalName: 'a.wav', path: 'a', bytes: 1, format: 'wav', durationSec: 1, createdAt: new Date().toISOString() });
      const meeting = await tx.insertMeeting({ id: meetingId, title: 'committed', tags: [], uploadId, audioPath: 'a', durationSec: 1 });
      await tx.writeDiarization({ meetingId, durationSec: 1, speakers: [], turns: [] });
      return meeting.title;
    });
    expect(result).toBe('committed');
    expect((await store.getMeeting(meetingId))?.title).toBe('committed');
  });
});
