/**
 * A meeting's turns as RTTM, JSON and CSV for analytics tools. Speakers are shown by their best name:
 * the person's name, else the name a user gave, else the engine label.
 */
import { InvalidArgumentError } from '../common/errors';
import { writeRttm } from '../formats/rttm';
import { validateTurns, type AnalyticsTurn } from './meeting-stats';

export interface ExportSpeaker {
  id: string;
  /** Engine label (SPEAKER_00). */
  label: string;
  displayName?: string;
  personId?: string;
  personName?: string;
}

export interface TurnExport {
  /** RTTM file-id / JSON meetingId. */
  meetingId: string;
  durationSec: number;
  speakers: readonly ExportSpeaker[];
  turns: readonly AnalyticsTurn[];
  /** The attributed transcript, when the meeting has one (JSON only). */
  transcript?: readonly TranscriptLineExport[];
}

export interface TranscriptLineExport {
  start: number;
  end: number;
  text: string;
  speakerId: string | null;
  speaker: string | null;
  overlap: boolean;
  words: Array<{ start: number; end: number; text: string }>;
}

export function speakerName(s: ExportSpeaker): string {
  return s.personName ?? s.displayName ?? s.label;
}

/**
 * RTTM: the speaker field is one token, so whitespace in names becomes "_"; two speakers whose names
 * collide get their label appended, so that distinct speakers stay distinct.
 */
export function turnsToRttm(data: TurnExport): string {
  const speakers = speakerMap(data);
  const base = new Map(data.speakers.map((s) => [s.id, speakerName(s).trim().replace(/\s+/g, '_') || s.label]));
  const counts = new Map<string, number>();
  for (const token of base.values()) counts.set(token, (counts.get(token) ?? 0) + 1);
  const token = (id: string): string => {
    const name = base.get(id)!;
    return counts.get(name)! > 1 && name !== speakers.get(id)!.label ? `${name}_${speakers.get(id)!.label}` : name;
  };
  return writeRttm(
    rttmFileId(data.meetingId),
    data.turns.map((t) => ({ speaker: token(t.speakerId), startSec: t.start, endSec: t.end })),
  );
}

/** JSON: speakers once, turns referring to them by id, times in seconds. */
export function turnsToJson(data: TurnExport): string {
  const speakers = speakerMap(data);
  return `${JSON.stringify(
    {
      meetingId: data.meetingId,
      durationSec: data.durationSec,
      speakers: data.speakers.map((s) => ({ id: s.id, label: s.label, name: speakerName(s), personId: s.personId ?? null })),
      turns: sortedTurns(data.turns).map((t) => ({
        start: round3(t.start),
        end: round3(t.end),
        speakerId: t.speakerId,
        speaker: speakerName(speakers.get(t.speakerId)!),
      })),
      // Added after the keys above, which stay as they were.
      ...(data.transcript
        ? {
            transcript: data.transcript.map((line) => ({
              ...line,
              start: round3(line.start),
              end: round3(line.end),
              words: line.words.map((w) => ({ ...w, start: round3(w.start), end: round3(w.end) })),
            })),
          }
        : {}),
    },
    null,
    2,
  )}\n`;
}

const CSV_HEADER = ['start', 'end', 'duration', 'speaker_id', 'speaker_label', 'speaker_name', 'person_id'];

/**
 * CSV per RFC 4180: CRLF line ends, a header row, fields with a comma, quote, CR or LF enclosed in
 * quotes with quotes doubled. Names starting with = + - @ (a formula to a spreadsheet) get a leading
 * apostrophe, the OWASP advice against CSV injection: names are typed by users.
 */
export function turnsToCsv(data: TurnExport): string {
  const speakers = speakerMap(data);
  const rows = sortedTurns(data.turns).map((t) => {
    const s = speakers.get(t.speakerId)!;
    return [t.start.toFixed(3), t.end.toFixed(3), (t.end - t.start).toFixed(3), s.id, s.label, neutraliseFormula(speakerName(s)), s.personId ?? ''];
  });
  return [CSV_HEADER, ...rows].map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}

export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function neutraliseFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function speakerMap(data: TurnExport): Map<string, ExportSpeaker> {
  validateTurns(data.turns);
  const speakers = new Map(data.speakers.map((s) => [s.id, s]));
  const unknown = data.turns.find((t) => !speakers.has(t.speakerId));
  if (unknown)
    throw new InvalidArgumentError(`A turn at ${unknown.start} s belongs to speaker "${unknown.speakerId}", which is not among the meeting's speakers.`);
  return speakers;
}

function sortedTurns(turns: readonly AnalyticsTurn[]): AnalyticsTurn[] {
  return [...turns].sort((a, b) => a.start - b.start || a.end - b.end || a.speakerId.localeCompare(b.speakerId));
}

/** RTTM file-ids are one token. */
function rttmFileId(meetingId: string): string {
  return meetingId.replace(/\s+/g, '_');
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
