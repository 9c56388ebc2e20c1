// Meetings written straight through the store, as a finished diarization job writes them, so the
// browser tests can edit and scroll known turns (and thousands of them) without diarizing audio.
// The meetings have no playable audio or peaks; the speakers carry the running server's model identity.
import { randomUUID } from 'node:crypto';

import { openStore } from '../../server/src/store/database';
import type { MeetingSpeakerInsert, TurnInsert } from '../../server/src/store/types';

export interface SeedSpec {
  title: string;
  tags: string[];
  durationSec: number;
  speakers: number;
  turns: number;
}

export interface SeededTurn {
  start: number;
  end: number;
  /** Index into the speakers, SPEAKER_00 first. */
  speaker: number;
}

export interface SeededMeeting {
  meetingId: string;
  /** Store ids, in SPEAKER_00, SPEAKER_01, … order. */
  speakerIds: string[];
  turns: SeededTurn[];
}

/**
 * Turn i starts at i·step (step = duration / turns) and lasts 0.55–0.95 steps, every tenth one 1.3
 * steps (overlapping the next); even turns are SPEAKER_00's (a chair), odd ones rotate through the
 * others, so neighbouring turns never share a speaker and a speaker's own turns never overlap.
 */
export function seededTurns(spec: SeedSpec): SeededTurn[] {
  const step = spec.durationSec / spec.turns;
  return Array.from({ length: spec.turns }, (_, i) => {
    const length = step * (i % 10 === 4 ? 1.3 : 0.55 + 0.04 * ((i * 37) % 11));
    const start = round3(i * step);
    return { start, end: Math.min(spec.durationSec, round3(start + length)), speaker: i % 2 === 0 ? 0 : 1 + (((i - 1) / 2) % (spec.speakers - 1)) };
  });
}

/** Writes each meeting (upload, meeting, speakers, turns, a SUCCEEDED job) into the store at `dataDir`. */
export async function seedMeetings(options: {
  dataDir: string;
  model: { name: string; hash: string; dim: number };
  specs: SeedSpec[];
}): Promise<SeededMeeting[]> {
  const store = await openStore({ dataDir: options.dataDir });
  try {
    await store.migrate();
    const out: SeededMeeting[] = [];
    for (const spec of options.specs) {
      const uploadId = randomUUID();
      const meetingId = randomUUID();
      const turns = seededTurns(spec);
      await store.insertUpload({
        id: uploadId,
        originalName: 'seeded.wav',
        path: `uploads/${uploadId}/original.wav`,
        bytes: 44,
        format: 'wav',
        durationSec: spec.durationSec,
        createdAt: new Date().toISOString(),
      });
      await store.insertMeeting({
        id: meetingId,
        title: spec.title,
        tags: spec.tags,
        uploadId,
        audioPath: `uploads/${uploadId}/original.wav`,
        durationSec: spec.durationSec,
      });
      const speakers: MeetingSpeakerInsert[] = Array.from({ length: spec.speakers }, (_, k) => ({
        id: randomUUID(),
        meetingId,
        label: `SPEAKER_${String(k).padStart(2, '0')}`,
        talkTimeSec: round3(turns.filter((t) => t.speaker === k).reduce((sum, t) => sum + t.end - t.start, 0)),
        centroid: basisVector(options.model.dim, k),
        modelName: options.model.name,
        modelHash: options.model.hash,
      }));
      const inserts: TurnInsert[] = turns.map((t) => ({ meetingId, speakerId: speakers[t.speaker].id, startSec: t.start, endSec: t.end }));
      await store.writeDiarization({ meetingId, durationSec: spec.durationSec, speakers, turns: inserts });
      const job = await store.insertJob({ id: randomUUID(), kind: 'diarize', meetingId });
      const now = new Date().toISOString();
      await store.updateJob(job.id, { state: 'SUCCEEDED', progress: 1, startedAt: now, finishedAt: now });
      await store.updateMeeting(meetingId, { latestJobId: job.id });
      out.push({ meetingId, speakerIds: speakers.map((s) => s.id), turns });
    }
    return out;
  } finally {
    await store.close();
  }
}

/** A unit vector along axis k: distinct speakers are orthogonal (cosine 0), so none look alike. */
function basisVector(dim: number, k: number): Float32Array {
  const v = new Float32Array(dim);
  v[k % dim] = 1;
  return v;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
