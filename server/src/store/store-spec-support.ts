/**
 * Shared set-up of the store specs: the same suite runs on both dialects. PostgreSQL runs on this
 * machine (and in CI); each run works in a fresh schema and drops it afterwards.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { AppError } from '../common/errors';
import { dropPostgresSchema, openStore } from './database';
import type { MeetingRecord, MeetingSpeakerInsert, Store, TurnInsert } from './types';

// The same suite runs on both dialects. PostgreSQL runs on this machine (and in CI); each run
// works in a fresh schema and drops it afterwards.
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

/** Ids in (createdAt, id) order: records made in the same millisecond tie on the instant. */
export function inCreationOrder(records: { id: string; createdAt: string }[]): string[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...records].sort((a, b) => cmp(a.createdAt, b.createdAt) || cmp(a.id, b.id)).map((r) => r.id);
}

/** Deterministic vector with values that are not round in binary (exactness check). */
export function vector(seed: number, dim = 192): Float32Array {
  const v = new Float32Array(dim);
  for (let i = 0; i < dim; i++) v[i] = Math.sin(seed * 1000 + i * 0.37) / 3 + (i === 0 ? 1e-39 : 0);
  return v;
}

export type StoreDialect = 'sqlite' | 'postgres';

export interface StoreFixture {
  readonly store: Store;
  readonly kind: StoreDialect;
  newUpload(bytes?: number): Promise<string>;
  newMeeting(fields?: Partial<{ title: string; tags: string[]; durationSec: number }>): Promise<MeetingRecord>;
  speaker(meetingId: string, label: string, seed: number, extra?: Partial<MeetingSpeakerInsert>): MeetingSpeakerInsert;
  turns(meetingId: string, speakerIds: string[], n: number): TurnInsert[];
  diarized(turnCount?: number): Promise<{ meeting: MeetingRecord; speakers: MeetingSpeakerInsert[] }>;
  newPerson(name: string, externalId?: string): ReturnType<Store['insertPerson']>;
}

/** Runs `body` once per dialect against a freshly migrated store. */
export function describeStore(title: string, body: (fx: StoreFixture) => void): void {
  describe.each(['sqlite', 'postgres'] as const)(`${title} on %s`, (kind) => {
    let store: Store;
    let dataDir: string;
    const schema = `store_spec_${title.toLowerCase().replace(/\W+/g, '_')}_${process.pid}_${Date.now().toString(36)}`;

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

    body({
      get store() {
        return store;
      },
      kind,
      newUpload,
      newMeeting,
      speaker,
      turns,
      diarized,
      newPerson,
    });
  });
}
