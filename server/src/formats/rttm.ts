/**
 * RTTM (NIST Rich Transcription Time Marked) reading and writing, SPEAKER records only.
 *
 * A SPEAKER line has ten space-separated fields:
 *   SPEAKER <file-id> <channel> <start s> <duration s> <NA> <NA> <speaker> <NA> <NA>
 * Other record types (SPKR-INFO, LEXEME, ...) are skipped, as are blank lines and comments (`#` or `;`),
 * the same lines md-eval skips.
 */
import { readFile } from 'node:fs/promises';
import type { SpeakerTurn } from '../diarization/types';
import { FileNotFoundError, InvalidArgumentError } from '../common/errors';

/** Index of the speaker-name field in a SPEAKER line; a line needs at least this many + 1 fields. */
const SPEAKER_FIELD = 7;

/**
 * RTTM text for one recording: one SPEAKER line per turn, sorted by start (then end, then speaker),
 * times printed with millisecond precision. An empty turn list gives an empty string.
 */
export function writeRttm(fileId: string, turns: SpeakerTurn[]): string {
  assertToken(fileId, 'file-id');
  const sorted = [...turns].sort((a, b) => a.startSec - b.startSec || a.endSec - b.endSec || a.speaker.localeCompare(b.speaker));
  const lines = sorted.map((turn) => {
    assertToken(turn.speaker, 'speaker label');
    if (!Number.isFinite(turn.startSec) || !Number.isFinite(turn.endSec) || turn.endSec < turn.startSec) {
      throw new InvalidArgumentError(
        `Cannot write a turn of "${turn.speaker}" from ${turn.startSec} s to ${turn.endSec} s: times must be finite with end >= start.`,
      );
    }
    const start = turn.startSec.toFixed(3);
    const duration = (turn.endSec - turn.startSec).toFixed(3);
    return `SPEAKER ${fileId} 1 ${start} ${duration} <NA> <NA> ${turn.speaker} <NA> <NA>`;
  });
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/**
 * SPEAKER turns per file-id, in file order. `source` (a path, usually) names the input in error messages.
 * Throws InvalidArgumentError naming the source and the 1-based line number for a malformed SPEAKER line.
 */
export function parseRttm(text: string, source = '<rttm text>'): Map<string, SpeakerTurn[]> {
  const byFile = new Map<string, SpeakerTurn[]>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const fields = line.split(/\s+/);
    if (fields[0].toUpperCase() !== 'SPEAKER') return;
    const where = `${source}:${index + 1}`;
    if (fields.length <= SPEAKER_FIELD) {
      throw new InvalidArgumentError(
        `Malformed RTTM line at ${where}: expected at least ${SPEAKER_FIELD + 1} fields ` +
          `("SPEAKER <file-id> <channel> <start> <duration> <NA> <NA> <speaker> ..."), got ${fields.length}: "${line}".`,
      );
    }
    const startSec = parseSeconds(fields[3], 'start', where, line);
    const durationSec = parseSeconds(fields[4], 'duration', where, line);
    const turn: SpeakerTurn = { speaker: fields[SPEAKER_FIELD], startSec, endSec: startSec + durationSec };
    const fileId = fields[1];
    const turns = byFile.get(fileId);
    if (turns) turns.push(turn);
    else byFile.set(fileId, [turn]);
  });
  return byFile;
}

/** Reads and parses an RTTM file; FileNotFoundError when it does not exist. */
export async function readRttmFile(path: string): Promise<Map<string, SpeakerTurn[]>> {
  return parseRttm(await readTextFile(path), path);
}

/** Reads a UTF-8 text file, mapping a missing file to FileNotFoundError. */
export async function readTextFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(path);
    throw error;
  }
}

function parseSeconds(field: string, what: string, where: string, line: string): number {
  const value = Number(field);
  if (field === '' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`Malformed RTTM line at ${where}: the ${what} field must be a non-negative number of seconds, got "${field}" in "${line}".`);
  }
  return value;
}

function assertToken(value: string, what: string): void {
  if (value === '' || /\s/.test(value)) {
    throw new InvalidArgumentError(`Cannot write RTTM: the ${what} "${value}" must be non-empty and contain no whitespace.`);
  }
}
