import { randomUUID } from 'node:crypto';

import { ConflictError, InvalidArgumentError, NotFoundError } from '../common/errors';
import { meanEmbedding } from '../vectors/math';
import { JobService } from '../jobs/job-service';
import { BlobStore } from '../storage/blob-store';
import { MeetingRecord, MeetingSpeakerRecord, Store } from '../store/types';
import { parseSpeakerCounts, SpeakerCounts } from '../clustering/speaker-counts';
import { splitSpans, totalSec, unionOfSpans } from './turn-edits';
import { attributedSegments, parseForMeeting, realignTranscript } from './transcript.service';
import { readBlobText, uploadTranscriptKey } from './upload.service';

export interface NewMeeting extends SpeakerCounts {
  uploadId: string;
  title: string;
  tags?: string[];
}

/** Keeps the voice-search index in step with manual speaker edits. */
export interface SpeakerIndexSync {
  indexMeetingSpeakers(meetingId: string): Promise<void>;
  removeMeeting(meetingId: string): Promise<void>;
}

/** Meeting life cycle and the manual speaker edits; every write that spans rows is one transaction. */
export class MeetingService {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly jobs: JobService,
    private readonly index: SpeakerIndexSync,
    private readonly maxTranscriptBytes = 10 * 1024 * 1024,
  ) {}

  async create(input: NewMeeting): Promise<MeetingRecord> {
    const counts = parseSpeakerCounts(input);
    const title = input.title.trim();
    if (!title) throw new InvalidArgumentError('A meeting needs a title.');
    const upload = await this.store.getUpload(input.uploadId);
    if (!upload) throw new NotFoundError('upload', input.uploadId);
    // A transcript sent with the recording (checked at upload) comes with the meeting; aligned when diarized.
    const transcriptFormat = upload.transcriptFormat;
    const cues = transcriptFormat
      ? parseForMeeting(transcriptFormat, await readBlobText(this.blobs, uploadTranscriptKey(upload.id)), upload.durationSec, this.maxTranscriptBytes)
      : undefined;
    const meeting = await this.store.transaction(async (tx) => {
      const used = await tx.meetingOfUpload(upload.id);
      if (used) throw new ConflictError(`Upload ${upload.id} already belongs to meeting ${used.id}; upload the file again for a second meeting.`);
      const made = await tx.insertMeeting({
        id: randomUUID(),
        title,
        tags: normaliseTags(input.tags),
        uploadId: upload.id,
        audioPath: upload.path,
        durationSec: upload.durationSec,
        ...counts,
      });
      if (transcriptFormat && cues) await tx.replaceTranscript(made.id, { format: transcriptFormat, cues, segments: attributedSegments(cues, []) });
      return made;
    });
    const job = await this.jobs.submit('diarize', meeting.id);
    return { ...meeting, latestJobId: job.id };
  }

  async update(id: string, patch: { title?: string; tags?: string[] }): Promise<MeetingRecord> {
    if (!(await this.store.getMeeting(id))) throw new NotFoundError('meeting', id);
    const title = patch.title?.trim();
    if (patch.title !== undefined && !title) throw new InvalidArgumentError('A meeting needs a title.');
    await this.store.updateMeeting(id, { ...(title ? { title } : {}), ...(patch.tags ? { tags: normaliseTags(patch.tags) } : {}) });
    return (await this.store.getMeeting(id))!;
  }

  async delete(meetingId: string): Promise<boolean> {
    const meeting = await this.store.getMeeting(meetingId);
    if (!meeting) throw new NotFoundError('meeting', meetingId);
    await this.jobs.cancelAllOfMeeting(meetingId);
    await this.store.deleteMeeting(meetingId);
    await this.index.removeMeeting(meetingId);
    await this.blobs.removePrefix(`meetings/${meetingId}/`);
    await this.blobs.removePrefix(`uploads/${meeting.uploadId}/`);
    await this.store.deleteUpload(meeting.uploadId);
    return true;
  }

  async rename(speakerId: string, name: string): Promise<MeetingSpeakerRecord> {
    const trimmed = name.trim();
    if (trimmed.length > 200) throw new InvalidArgumentError('A speaker name has at most 200 characters.');
    await this.mustGetSpeaker(speakerId);
    await this.store.updateSpeaker(speakerId, { displayName: trimmed || null });
    return (await this.store.getSpeaker(speakerId))!;
  }

  async assign(speakerId: string, personId: string | undefined): Promise<MeetingSpeakerRecord> {
    await this.mustGetSpeaker(speakerId);
    if (personId && !(await this.store.getPerson(personId))) throw new NotFoundError('person', personId);
    await this.store.updateSpeaker(
      speakerId,
      personId ? { personId, personSource: 'manual', matchScore: null } : { personId: null, personSource: 'manual', matchScore: null },
    );
    return (await this.store.getSpeaker(speakerId))!;
  }

  /** Folds `mergeId`'s turns into `keepId` (joining what now overlaps) and removes `mergeId`. */
  async merge(meetingId: string, keepId: string, mergeId: string): Promise<void> {
    if (keepId === mergeId) throw new InvalidArgumentError('Pick two different speakers to merge.');
    const [keep, gone] = await Promise.all([this.mustGetSpeaker(keepId), this.mustGetSpeaker(mergeId)]);
    if (keep.meetingId !== meetingId || gone.meetingId !== meetingId) throw new InvalidArgumentError(`Both speakers must belong to meeting ${meetingId}.`);
    const turns = (await this.store.turnsOfMeeting(meetingId)).items.filter((t) => t.speakerId === keepId || t.speakerId === mergeId);
    const joined = unionOfSpans(turns);
    // The merged voice: the two centroids weighted by talk time.
    const rows = new Float32Array(keep.centroid.length * 2);
    rows.set(keep.centroid, 0);
    rows.set(gone.centroid, keep.centroid.length);
    const centroid = meanEmbedding(rows, keep.centroid.length, [keep.talkTimeSec, gone.talkTimeSec]);
    await this.store.transaction(async (tx) => {
      await tx.editTurns(meetingId, { deleteIds: turns.map((t) => t.id), insert: joined.map((s) => ({ meetingId, speakerId: keepId, ...s })) });
      await tx.updateSpeaker(keepId, { talkTimeSec: round3(totalSec(joined)), centroid });
      await tx.deleteSpeaker(mergeId);
      await realignTranscript(tx, meetingId);
    });
    await this.index.indexMeetingSpeakers(meetingId);
  }

  /** Gives the speaker's speech inside [fromSec, toSec) to a new speaker (same voice print until reprocessed). */
  async split(speakerId: string, fromSec: number, toSec: number): Promise<string> {
    if (!(Number.isFinite(fromSec) && Number.isFinite(toSec) && toSec > fromSec && fromSec >= 0)) {
      throw new InvalidArgumentError(`Split range must satisfy 0 <= from < to; got from=${fromSec}, to=${toSec}.`);
    }
    const speaker = await this.mustGetSpeaker(speakerId);
    const meetingId = speaker.meetingId;
    const turns = (await this.store.turnsOfMeeting(meetingId)).items.filter((t) => t.speakerId === speakerId);
    const { inside, outside } = splitSpans(turns, fromSec, toSec);
    if (inside.length === 0) throw new InvalidArgumentError(`Speaker ${speaker.label} does not speak between ${fromSec} s and ${toSec} s; nothing to split.`);
    const newId = randomUUID();
    const count = (await this.store.speakersOfMeeting(meetingId)).length;
    await this.store.transaction(async (tx) => {
      await tx.insertSpeaker({
        id: newId,
        meetingId,
        label: `SPEAKER_${String(count).padStart(2, '0')}`,
        talkTimeSec: round3(totalSec(inside)),
        centroid: speaker.centroid,
        modelName: speaker.modelName,
        modelHash: speaker.modelHash,
      });
      await tx.editTurns(meetingId, {
        deleteIds: turns.map((t) => t.id),
        insert: [...outside.map((s) => ({ meetingId, speakerId, ...s })), ...inside.map((s) => ({ meetingId, speakerId: newId, ...s }))],
      });
      await tx.updateSpeaker(speakerId, { talkTimeSec: round3(totalSec(outside)) });
      await realignTranscript(tx, meetingId);
    });
    await this.index.indexMeetingSpeakers(meetingId);
    return newId;
  }

  async moveTurn(turnId: string, toSpeakerId: string): Promise<string> {
    const turn = await this.store.getTurn(turnId);
    if (!turn) throw new NotFoundError('turn', turnId);
    const target = await this.mustGetSpeaker(toSpeakerId);
    if (target.meetingId !== turn.meetingId) throw new InvalidArgumentError(`Speaker ${toSpeakerId} is not in the turn's meeting.`);
    if (turn.speakerId === toSpeakerId) return turn.meetingId;
    const source = await this.mustGetSpeaker(turn.speakerId);
    const length = turn.endSec - turn.startSec;
    await this.store.transaction(async (tx) => {
      await tx.editTurns(turn.meetingId, { move: { turnId, toSpeakerId } });
      await tx.updateSpeaker(source.id, { talkTimeSec: round3(Math.max(0, source.talkTimeSec - length)) });
      await tx.updateSpeaker(target.id, { talkTimeSec: round3(target.talkTimeSec + length) });
      await realignTranscript(tx, turn.meetingId);
    });
    return turn.meetingId;
  }

  private async mustGetSpeaker(id: string): Promise<MeetingSpeakerRecord> {
    const speaker = await this.store.getSpeaker(id);
    if (!speaker) throw new NotFoundError('speaker', id);
    return speaker;
  }
}

export function normaliseTags(tags: readonly string[] | undefined): string[] {
  const out = new Set<string>();
  for (const tag of tags ?? []) {
    const t = tag.trim();
    if (!t) continue;
    if (t.length > 64) throw new InvalidArgumentError(`Tag "${t.slice(0, 20)}…" is longer than 64 characters.`);
    out.add(t);
  }
  return [...out];
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
