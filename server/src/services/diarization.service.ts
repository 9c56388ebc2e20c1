import { randomUUID } from 'node:crypto';

import { NotFoundError, throwIfAborted } from '../common/errors';
import { Engine } from '../diarization/engine';
import { JobContext } from '../jobs/job-types';
import { createProgressMapper, INGEST_SPAN, STORE_SPAN } from '../jobs/progress-weights';
import { carryOverManualWork } from '../speakers/carry-over-store';
import { MeetingRecord, MeetingSpeakerInsert, Store } from '../store/types';
import { realignTranscript } from './transcript.service';

/** Makes the browser-playable copy and the waveform peaks of a meeting's recording. */
export interface MediaPreparer {
  /** durationSec: measured while decoding (some containers do not state it). */
  prepare(meeting: MeetingRecord, signal: AbortSignal): Promise<{ playablePath: string; peaksPath: string; durationSec: number }>;
  /** Runs `use` with the recording as a file on this machine (a download when it lives in object storage). */
  withLocalFile<T>(key: string, use: (file: string) => Promise<T>): Promise<T>;
}

/** What jobs need from speaker identity (speakers/speaker-directory.ts implements it). */
export interface SpeakerIdentity {
  /** Throws MODEL_SWITCH_PENDING while stored embeddings come from another model. */
  assertModelUsable(modelHash: string): Promise<void>;
  modelUsable(modelHash: string): Promise<boolean>;
  /** Matches the meeting's non-manual speakers to enrolled people and stores the result. */
  identifyMeeting(meetingId: string): Promise<void>;
  /** Puts the meeting's speaker centroids in the voice-search index (replacing older ones). */
  indexMeetingSpeakers(meetingId: string): Promise<void>;
}

export interface DiarizationDeps {
  store: Store;
  engine: Engine;
  media: MediaPreparer;
  identity: SpeakerIdentity;
  /** Re-embeds enrollments another model made (services/people.service.ts); returns what is still pending. */
  reembedEnrollments: () => Promise<string[]>;
}

/** The bodies of the meeting jobs: what a diarize or identify run does to a meeting and its speakers. */
export class DiarizationService {
  constructor(private readonly deps: DiarizationDeps) {}

  /** Only re-matches the meeting's stored speakers to enrolled people. */
  async identify(meetingId: string, ctx: JobContext): Promise<void> {
    const { store, engine, identity } = this.deps;
    ctx.reportProgress('identification', 0);
    await identity.assertModelUsable(engine.model.hash);
    await mustGetMeeting(store, meetingId);
    await identity.identifyMeeting(meetingId);
    ctx.reportProgress('identification', 1);
  }

  /** The whole pipeline on the meeting's recording; replaces its speakers and turns, keeping manual work. */
  async diarize(meetingId: string, ctx: JobContext): Promise<void> {
    const { store, engine, media, identity } = this.deps;
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
    // One transaction, written only while this run still owns the job: the new speakers and turns,
    // the names and person assignments carried over from the previous run, the transcript realigned
    // to the new turns, and the batch notes about
    // what could not be carried. A late write of a worker that lost the job changes nothing, and no
    // meeting is ever seen with its new speakers but without its manual work.
    const batchId = await store.transaction(async (tx) => {
      await ctx.assertOwner?.(tx);
      // Kept for carrying names and person assignments over to the new speakers.
      const previous = await tx.speakersOfMeeting(meetingId);
      const previousTurns = previous.length > 0 ? (await tx.turnsOfMeeting(meetingId)).items : [];
      await tx.writeDiarization({ meetingId, durationSec: result.durationSec, speakers, turns });
      const notes = previous.length > 0 ? await carryOverManualWork(tx, meetingId, previous, previousTurns) : [];
      // The transcript (attached before or after an earlier run) follows the new turns in the same commit.
      await realignTranscript(tx, meetingId);
      const job = await tx.getJob(ctx.jobId);
      if (job?.batchId && notes.length > 0)
        await tx.addBatchNotes(
          job.batchId,
          notes.map((message) => ({ meetingId, message })),
        );
      return job?.batchId;
    });

    // After a model switch, matching is refused while embeddings of the previous model remain: this
    // run re-embeds the meeting, then the enrollments it can; the speakers stay anonymous until
    // nothing of the old model is left (the batch notes say what still blocks it). This reads the
    // committed speakers and re-embeds outside the transaction (long, and not this job's rows alone).
    let usable = await identity.modelUsable(engine.model.hash);
    if (!usable) {
      const pending = await this.deps.reembedEnrollments();
      usable = await identity.modelUsable(engine.model.hash);
      if (!usable && batchId)
        await store.addBatchNotes(batchId, [
          {
            meetingId,
            message: `Identification skipped: the embedding model changed and older embeddings remain (other meetings to reprocess${pending.length ? `; ${pending.join(' ')}` : ''}). Run an IDENTIFY batch once they are re-embedded.`,
          },
        ]);
    }
    if (usable) await identity.identifyMeeting(meetingId);
    await identity.indexMeetingSpeakers(meetingId);
    ctx.reportProgress('storing', STORE_SPAN[1]);
  }
}

async function mustGetMeeting(store: Store, meetingId: string): Promise<MeetingRecord> {
  const meeting = await store.getMeeting(meetingId);
  if (!meeting) throw new NotFoundError('meeting', meetingId);
  return meeting;
}
