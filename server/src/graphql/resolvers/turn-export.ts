import { turnsToCsv, turnsToJson, turnsToRttm, TurnExport } from '../../analytics/turn-export';
import { AppError } from '../../common/errors';
import { TranscriptSegmentRecord, TurnRecord } from '../../store/types';
import { formatTranscript, TranscriptExportFormat } from '../../transcripts/export';
import { TurnExportFormat } from '../types/enums';
import { Meeting, Speaker } from '../types/meeting.type';

const turnWriters: Partial<Record<TurnExportFormat, (data: TurnExport) => string>> = {
  [TurnExportFormat.RTTM]: turnsToRttm,
  [TurnExportFormat.JSON]: turnsToJson,
  [TurnExportFormat.CSV]: turnsToCsv,
};

const transcriptFormats: Partial<Record<TurnExportFormat, TranscriptExportFormat>> = {
  [TurnExportFormat.VTT]: 'VTT',
  [TurnExportFormat.SRT]: 'SRT',
  [TurnExportFormat.TXT]: 'TXT',
};

/** Whether the format needs the transcript (VTT, SRT, TXT) or shows it when there is one (JSON). */
export function exportUsesTranscript(format: TurnExportFormat): boolean {
  return format === TurnExportFormat.JSON || transcriptFormats[format] !== undefined;
}

/**
 * A meeting's turns in an analytics tool's format, speakers under their display labels; or its
 * transcript with a speaker on every line. `segments` is undefined when there is no transcript.
 */
export function exportTurns(
  format: TurnExportFormat,
  meeting: Meeting,
  turns: readonly TurnRecord[],
  speakers: readonly Speaker[],
  segments?: readonly TranscriptSegmentRecord[],
): string {
  const byId = new Map(speakers.map((s) => [s.id, s]));
  const transcriptFormat = transcriptFormats[format];
  if (transcriptFormat) {
    if (!segments)
      throw new AppError(
        'NO_TRANSCRIPT',
        `Meeting ${meeting.id} has no transcript. Attach one (attachTranscript with VTT, SRT or WHISPER_JSON), or export RTTM, JSON or CSV.`,
      );
    return formatTranscript(
      segments.map((s) => ({ startSec: s.startSec, endSec: s.endSec, text: s.text, speaker: s.speakerId ?? null, overlap: s.overlap })),
      transcriptFormat,
      (speakerId) => byId.get(speakerId)?.label ?? speakerId,
    );
  }
  return turnWriters[format]!({
    meetingId: meeting.id,
    durationSec: meeting.durationSeconds,
    speakers: speakers.map((s) => ({ id: s.id, label: s.engineLabel, displayName: s.label, personId: s.personId })),
    turns: turns.map((t) => ({ speakerId: t.speakerId, start: t.startSec, end: t.endSec })),
    ...(segments
      ? {
          transcript: segments.map((s) => ({
            start: s.startSec,
            end: s.endSec,
            text: s.text,
            speakerId: s.speakerId ?? null,
            speaker: s.speakerId ? (byId.get(s.speakerId)?.label ?? null) : null,
            overlap: s.overlap,
            words: (s.words ?? []).map((w) => ({ start: w.startSec, end: w.endSec, text: w.text })),
          })),
        }
      : {}),
  });
}
