import { randomUUID } from 'node:crypto';

import { NotFoundError, throwIfAborted } from '../common/errors';
import { Engine } from '../diarization/engine';
import { MeetingRecord, MeetingSpeakerInsert, MeetingSpeakerRecord, Store, TurnRecord } from '../store/types';
import { JobContext, JobHandlers } from './job-types';
import { createProgressMapper, INGEST_SPAN, STORE_SPAN } from './progress-weights';

/** Makes the browser-playable copy and the waveform peaks of a meeting's recording. */
export interface MediaPreparer {
  /** durationSec: measured while decoding (some containers do not state it). */
  prepare(meeting: MeetingRecord, signal: AbortSignal): Promise<{ playablePath: string; peaksPath: string; durationSec: number }>;
  /** Runs `use` with the recording as a file on this machine (a download when it lives in object storage). */
  withLocalFile<T>(key: string, use: (file: string) => Promise<T>): Promise<T>;
}

/** What jobs need from speaker identity (speakers/directory.ts implements it). */
export interface SpeakerIdentity {
  /** Throws MODEL_SWITCH_PENDING while stored embeddings come from another model. */
  assertModelUsable(modelHash: string): Promise<void>;
  modelUsable(modelHash: string): Promise<boolean>;
  /** Matches the meeting's non-manual speakers to enrolled people and stores the result. */
  identifyMeeting(meetingId: string): Promise<void>;
  /** Puts the meeting's speaker centroids in the voice-search index (replacing older ones). */
  indexMeetingSpeakers(meetingId: string): Promise<void>;
  /**
   * Carries manual work (names, person assignments) from a meeting's previous speakers to the new
   * ones with the most similar voice; returns what could not be carried over, in words.
   */
  carryOverManualWork(meetingId: string, previous: MeetingSpeakerRecord[], previousTurns: TurnRecord[]): Promise<string[]>;
}

export interface JobDeps {
  store: Store;
  engine: Engine;
  media: MediaPreparer;
  identity: SpeakerIdentity;
  /** Re-embeds enrollments another model made (services/people.service.ts); returns what is still pending. */
  reembedEnrollments: () => Promise<string[]>;
  log?: (line: string) => void;
}

export function createJobHandlers(deps: JobDeps): JobHandlers {
  return {
    diarize: async ({ meetingId }, ctx) => diarizeMeeting(deps, meetingId, ctx),
    identify: async ({ meetingId }, ctx) => {
      ctx.reportProgress('identification', 0);
      await deps.identity.assertModelUsable(deps.engine.model.hash);
      await mustGetMeeting(deps.store, meetingId);
      await deps.identity.identifyMeeting(meetingId);
      ctx.reportProgress('identification', 1);
    },
  };
}

async function diarizeMeeting(deps: JobDeps, meetingId: string, ctx: JobContext): Promise<void> {
  const { store, engine, media, identity } = deps;
  const meeting = await mustGetMeeting(store, meetingId);

  // Ingest (playable copy and peaks, once per meeting) and diarization read the recording
  // independently, so they run side by side; if either fails, the other is stopped.
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  ctx.reportProgress('ingest', INGEST_SPAN[0]);
  const ingest =
    meeting.playablePath && meeting.peaksPath ? Promise.resolve() : media.prepare(meeting, signal).then((made) => store.updateMeeting(meetingId, made));
  const diarization = media.withLocalFile(meeting.audioPath, (file) =>
    engine.diarize(file, {
      fileId: meetingId,
      signal,
      onProgress: createProgressMapper(ctx.reportProgress),
      overrides: { clustering: { numSpeakers: meeting.numSpeakers, minSpeakers: meeting.minSpeakers, maxSpeakers: meeting.maxSpeakers } },
    }),
  );
  let result: Awaited<typeof diarization>;
  try {
    [, result] = await Promise.all([ingest, diarization]);
  } catch (error) {
    stop.abort();
    await Promise.allSettled([ingest, diarization]);
    throw error;
  }
  throwIfAborted(ctx.signal, 'job');
  ctx.reportProgress('storing', STORE_SPAN[0]);

  // Kept for carrying names and person assignments over to the new speakers.
  const previous = await store.speakersOfMeeting(meetingId);
  const previousTurns = previous.length > 0 ? (await store.turnsOfMeeting(meetingId)).items : [];
  const speakerIds = new Map<string, string>();
  const speakers: MeetingSpeakerInsert[] = result.speakers.map((s) => {
    const id = randomUUID();
    speakerIds.set(s.label, id);
    return {
      id,
      meetingId,
      label: s.label,
      talkTimeSec: s.speechSec,
      centroid: Float32Array.from(s.centroid),
      modelName: engine.model.name,
      modelHash: engine.model.hash,
    };
  });
  const turns = result.turns.map((t) => ({ meetingId, speakerId: speakerIds.get(t.speaker)!, startSec: t.startSec, endSec: t.endSec }));
  // Written only while this run still owns the job (a late write of a worker that lost it changes nothing).
  await store.transaction(async (tx) => {
    await ctx.assertOwner?.(tx);
    await tx.writeDiarization({ meetingId, durationSec: result.durationSec, speakers, turns });
  });

  const notes = previous.length > 0 ? await identity.carryOverManualWork(meetingId, previous, previousTurns) : [];

  // After a model switch, matching is refused while embeddings of the previous model remain: this
  // run re-embeds the meeting, then the enrollments it can; the speakers stay anonymous until
  // nothing of the old model is left (the batch notes say what still blocks it).
  let usable = await identity.modelUsable(engine.model.hash);
  if (!usable) {
    const pending = await deps.reembedEnrollments();
    usable = await identity.modelUsable(engine.model.hash);
    if (!usable)
      notes.push(
        `Identification skipped: the embedding model changed and older embeddings remain (other meetings to reprocess${pending.length ? `; ${pending.join(' ')}` : ''}). Run an IDENTIFY batch once they are re-embedded.`,
      );
  }
  if (usable) await identity.identifyMeeting(meetingId);
  await identity.indexMeetingSpeakers(meetingId);
  const job = await store.getJob(ctx.jobId);
  if (job?.batchId && notes.length > 0)
    await store.addBatchNotes(
      job.batchId,
      notes.map((message) => ({ meetingId, message })),
    );
  ctx.reportProgress('storing', STORE_SPAN[1]);
}

async function mustGetMeeting(store: Store, meetingId: string): Promise<MeetingRecord> {
  const meeting = await store.getMeeting(meetingId);
  if (!meeting) throw new NotFoundError('meeting', meetingId);
  return meeting;
}
