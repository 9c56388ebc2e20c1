import { turnsToCsv, turnsToJson, turnsToRttm, TurnExport } from '../../analytics/turn-export';
import { TurnRecord } from '../../store/types';
import { TurnExportFormat } from '../types/enums';
import { Meeting, Speaker } from '../types/meeting.type';

const writers: Record<TurnExportFormat, (data: TurnExport) => string> = {
  [TurnExportFormat.RTTM]: turnsToRttm,
  [TurnExportFormat.JSON]: turnsToJson,
  [TurnExportFormat.CSV]: turnsToCsv,
};

/** A meeting's turns in an analytics tool's format, speakers under their display labels. */
export function exportTurns(format: TurnExportFormat, meeting: Meeting, turns: readonly TurnRecord[], speakers: readonly Speaker[]): string {
  return writers[format]({
    meetingId: meeting.id,
    durationSec: meeting.durationSeconds,
    speakers: speakers.map((s) => ({ id: s.id, label: s.engineLabel, displayName: s.label, personId: s.personId })),
    turns: turns.map((t) => ({ speakerId: t.speakerId, start: t.startSec, end: t.endSec })),
  });
}
