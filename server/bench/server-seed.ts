/**
 * bench:server's hour-long meeting, written through the store (as a finished diarization job would write
 * it), so the turns query can be timed without diarizing an hour of audio first.
 */
import { randomUUID } from 'node:crypto';

import { gaussian, seededRandom } from '../src/clustering/random';
import { openStore } from '../src/store/database';
import type { MeetingSpeakerInsert, TurnInsert } from '../src/store/types';

/** Shape of a real meeting: a chair and quieter participants, short turns, some overlap. */
const HOUR_MEETING = {
  durationSec: 3600,
  speakers: 6,
  turnMedianSec: 1.6,
  /** σ of ln(turn length). */
  turnLogSigma: 0.8,
  turnMinSec: 0.3,
  turnMaxSec: 30,
  pauseMeanSec: 0.4,
  /** Share of turns that start before the previous one ends. */
  overlapProbability: 0.1,
} as const;

export interface SeededMeeting {
  meetingId: string;
  turns: number;
  speakers: number;
}

/** Writes one upload, one meeting, its speakers and an hour of turns into the store at `dataDir` / `databaseUrl`. */
export async function seedHourMeeting(options: {
  dataDir: string;
  databaseUrl?: string;
  model: { name: string; hash: string; dim: number };
  seed?: number;
}): Promise<SeededMeeting> {
  const rng = seededRandom(options.seed ?? 1);
  const normal = gaussian(rng);
  const store = await openStore({ dataDir: options.dataDir, databaseUrl: options.databaseUrl });
  try {
    await store.migrate();
    const uploadId = randomUUID();
    const meetingId = randomUUID();
    await store.insertUpload({
      id: uploadId,
      originalName: 'hour.wav',
      path: `uploads/${uploadId}/original.wav`,
      bytes: 115_200_044,
      format: 'wav',
      durationSec: HOUR_MEETING.durationSec,
      createdAt: new Date().toISOString(),
    });
    await store.insertMeeting({
      id: meetingId,
      title: 'bench: one-hour meeting',
      tags: ['bench'],
      uploadId,
      audioPath: `uploads/${uploadId}/original.wav`,
      durationSec: HOUR_MEETING.durationSec,
    });

    const weights = Array.from({ length: HOUR_MEETING.speakers }, () => Math.exp(0.6 * normal()));
    const speakers: MeetingSpeakerInsert[] = weights.map((_, i) => ({
      id: randomUUID(),
      meetingId,
      label: `SPEAKER_${String(i).padStart(2, '0')}`,
      talkTimeSec: 0,
      centroid: unitVector(options.model.dim, normal),
      modelName: options.model.name,
      modelHash: options.model.hash,
    }));
    const turns: TurnInsert[] = [];
    let previous = -1;
    let time = 0.5;
    for (;;) {
      const lengthSec = Math.min(
        HOUR_MEETING.turnMaxSec,
        Math.max(HOUR_MEETING.turnMinSec, HOUR_MEETING.turnMedianSec * Math.exp(HOUR_MEETING.turnLogSigma * normal())),
      );
      if (time + lengthSec > HOUR_MEETING.durationSec) break;
      const speaker = pickOther(weights, previous, rng);
      turns.push({ meetingId, speakerId: speakers[speaker].id, startSec: round3(time), endSec: round3(time + lengthSec) });
      speakers[speaker].talkTimeSec += lengthSec;
      previous = speaker;
      const overlap = rng() < HOUR_MEETING.overlapProbability;
      time += overlap ? lengthSec * (0.5 + 0.4 * rng()) : lengthSec - HOUR_MEETING.pauseMeanSec * Math.log(1 - rng());
    }
    await store.writeDiarization({ meetingId, durationSec: HOUR_MEETING.durationSec, speakers, turns });
    return { meetingId, turns: turns.length, speakers: speakers.length };
  } finally {
    await store.close();
  }
}

/** A speaker index drawn by weight, never `previous` (a turn ends when somebody else speaks). */
function pickOther(weights: readonly number[], previous: number, rng: () => number): number {
  const total = weights.reduce((sum, w, i) => sum + (i === previous ? 0 : w), 0);
  let r = rng() * total;
  for (const [i, w] of weights.entries()) {
    if (i === previous) continue;
    r -= w;
    if (r <= 0) return i;
  }
  return weights.length - 1 === previous ? 0 : weights.length - 1;
}

function unitVector(dim: number, normal: () => number): Float32Array {
  const v = Float32Array.from({ length: dim }, () => normal());
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
