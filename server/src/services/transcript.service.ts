import { NotFoundError } from '../common/errors';
import { Store, TranscriptRecord, TranscriptSegmentInsert, TurnRecord } from '../store/types';
import { alignTranscript } from '../transcripts/align';
import { parseTranscript } from '../transcripts/parse';
import type { TranscriptCue, TranscriptFormat } from '../transcripts/types';

/** Cues attributed to the meeting's turns; speakers are the turns' speaker ids. */
export function attributedSegments(cues: readonly TranscriptCue[], turns: readonly TurnRecord[]): TranscriptSegmentInsert[] {
  const segments = alignTranscript(
    cues,
    turns.map((t) => ({ speaker: t.speakerId, startSec: t.startSec, endSec: t.endSec })),
  );
  return segments.map((s) => ({
    startSec: s.startSec,
    endSec: s.endSec,
    text: s.text,
    ...(s.speaker !== null ? { speakerId: s.speaker } : {}),
    overlap: s.overlap,
    ...(s.words ? { words: s.words } : {}),
  }));
}

/**
 * Attributes the meeting's transcript again to its current turns. Call it with the transaction that
 * changed the turns (speaker edits, a re-diarization), so no reader sees turns and transcript disagree.
 */
export async function realignTranscript(tx: Store, meetingId: string): Promise<void> {
  const cues = await tx.transcriptCues(meetingId);
  if (!cues) return;
  const turns = (await tx.turnsOfMeeting(meetingId)).items;
  await tx.writeTranscriptSegments(meetingId, attributedSegments(cues, turns));
}

/** Parses a transcript file and checks it against the recording (throws InvalidArgumentError naming the line or field). */
export function parseForMeeting(format: TranscriptFormat, content: string, durationSec: number, maxBytes: number): TranscriptCue[] {
  // A duration of 0 means the container did not say; the check waits for a known length.
  return parseTranscript(format, content, { maxBytes, ...(durationSec > 0 ? { durationSec } : {}) });
}

/** A meeting's one current transcript: attach (replacing the previous one) and delete. */
export class TranscriptService {
  constructor(
    private readonly store: Store,
    private readonly maxBytes: number,
  ) {}

  /**
   * Parse, validate, align to the current turns (none yet: aligned when the diarization ends) and
   * replace the previous transcript, in one transaction: on any error nothing changes.
   */
  async attach(meetingId: string, format: TranscriptFormat, content: string): Promise<TranscriptRecord> {
    const meeting = await this.store.getMeeting(meetingId);
    if (!meeting) throw new NotFoundError('meeting', meetingId);
    const cues = parseForMeeting(format, content, meeting.durationSec, this.maxBytes);
    return this.store.transaction(async (tx) => {
      const turns = (await tx.turnsOfMeeting(meetingId)).items;
      return tx.replaceTranscript(meetingId, { format, cues, segments: attributedSegments(cues, turns) });
    });
  }

  async delete(meetingId: string): Promise<boolean> {
    if (!(await this.store.getMeeting(meetingId))) throw new NotFoundError('meeting', meetingId);
    return this.store.deleteTranscript(meetingId);
  }
}
