/**
 * Transcript import: WebVTT and SRT through the `subtitle` package (its CommonJS build loads under
 * jest/swc and tsx), Whisper JSON (openai-whisper, faster-whisper, whisper.cpp) hand-written because no
 * npm package reads all three shapes. Every error is an InvalidArgumentError naming the line or field.
 */
import { parseSync, type NodeList } from 'subtitle';
import { InvalidArgumentError } from '../common/errors';
import { guessTranscriptFormat, unknownTranscriptFormatMessage } from './detect';
import { type TranscriptCue, type TranscriptFormat, type TranscriptWord } from './types';

export interface ParseTranscriptOptions {
  /** Length of the recording; cues ending after it (beyond a small tolerance) are rejected. */
  durationSec?: number;
  /** Largest accepted content in bytes (MAX_TRANSCRIPT_MB in the server configuration). */
  maxBytes?: number;
}

/** Cue ends this far past the recording's end are rounding in the ASR output, not an error. */
const END_TOLERANCE_SEC = 0.5;

/** Parses, validates and sorts a transcript; throws InvalidArgumentError with the offending line or field. */
export function parseTranscript(format: TranscriptFormat, content: string, options: ParseTranscriptOptions = {}): TranscriptCue[] {
  const bytes = Buffer.byteLength(content, 'utf8');
  if (options.maxBytes !== undefined && bytes > options.maxBytes) {
    throw new InvalidArgumentError(
      `The transcript is ${(bytes / 1048576).toFixed(1)} MB, over the ${(options.maxBytes / 1048576).toFixed(1)} MB limit (MAX_TRANSCRIPT_MB); split it or raise the limit.`,
    );
  }
  if (content.trim() === '') throw new InvalidArgumentError('The transcript is empty; attach a file with at least one cue.');
  const cues = parsers[format](content.replace(/^\uFEFF/, ''));
  if (cues.length === 0) throw new InvalidArgumentError(`The ${format} transcript has no cues with text; attach a file with at least one cue.`);
  cues.forEach((cue, index) => checkTimes(cue, `cue ${index + 1}`, options.durationSec));
  // Unsorted or overlapping cues are accepted: ASR output often overlaps by a few ms.
  return cues.sort((a, b) => a.startSec - b.startSec || a.endSec - b.endSec);
}

/** Format from the file name's extension, else from the content; throws when neither tells. */
export function detectTranscriptFormat(content: string, fileName?: string): TranscriptFormat {
  const format = guessTranscriptFormat(content, fileName);
  if (!format) throw new InvalidArgumentError(unknownTranscriptFormatMessage(fileName));
  return format;
}

const parsers: Record<TranscriptFormat, (content: string) => TranscriptCue[]> = {
  VTT: (content) => {
    if (!content.trimStart().startsWith('WEBVTT')) {
      throw new InvalidArgumentError('Line 1 of the VTT transcript must start with "WEBVTT"; is it an SRT file?');
    }
    return subtitleCues(content, 'VTT');
  },
  SRT: (content) => subtitleCues(content, 'SRT'),
  WHISPER_JSON: whisperCues,
};

const TIMESTAMP = String.raw`(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}`;
const TIMING_LINE = new RegExp(String.raw`^\s*${TIMESTAMP}\s*-->\s*${TIMESTAMP}(?:\s.*)?$`);
/** Something meant as a timing line: an arrow, or a line that starts with a time and a dash. */
const LOOKS_LIKE_TIMING = new RegExp(String.raw`-->|^\s*${TIMESTAMP}\s*-`);

/**
 * The library reads a broken timing line after the first cue as text of the cue before it; this
 * hand-written pass names such a line instead of letting it slip into a transcript.
 */
function checkTimingLines(lines: string[], format: 'VTT' | 'SRT'): void {
  lines.forEach((line, index) => {
    if (LOOKS_LIKE_TIMING.test(line) && !TIMING_LINE.test(line))
      throw new InvalidArgumentError(
        `The ${format} transcript is malformed on line ${index + 1}: "${line.slice(0, 80)}" is not a cue timing (expected e.g. ${example(format)}).`,
      );
  });
  if (!lines.some((line) => TIMING_LINE.test(line)))
    throw new InvalidArgumentError(`The ${format} transcript has no cues (no line like ${example(format)}); attach a file with at least one cue.`);
}

const example = (format: 'VTT' | 'SRT') => (format === 'VTT' ? '00:00:01.000 --> 00:00:02.500' : '00:00:01,000 --> 00:00:02,500');

function subtitleCues(content: string, format: 'VTT' | 'SRT'): TranscriptCue[] {
  let nodes: NodeList;
  const normalised = content.replace(/\r\n?/g, '\n');
  checkTimingLines(normalised.split('\n'), format);
  try {
    nodes = parseSync(normalised);
  } catch (error) {
    // The library says "at row N" (1-based); messages elsewhere say "line".
    const message = (error as Error).message.replace(/at row (\d+)/, (_, row: string) => `on line ${row}`);
    throw new InvalidArgumentError(`The ${format} transcript is malformed: ${message}.`);
  }
  const cues: TranscriptCue[] = [];
  for (const node of nodes) {
    if (node.type !== 'cue') continue;
    const text = stripVoiceTags(node.data.text);
    if (text === '') continue;
    cues.push({ startSec: node.data.start / 1000, endSec: node.data.end / 1000, text });
  }
  return cues;
}

/** Drops WebVTT voice/style tags (`<v Ada>`, `<i>`) and collapses whitespace; the speaker comes from alignment. */
function stripVoiceTags(text: string): string {
  return text
    .replace(/<[^>]*>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

interface WhisperWordJson {
  start?: unknown;
  end?: unknown;
  word?: unknown;
  text?: unknown;
}
interface WhisperSegmentJson {
  start?: unknown;
  end?: unknown;
  text?: unknown;
  words?: unknown;
  offsets?: { from?: unknown; to?: unknown };
  tokens?: unknown;
}

/**
 * openai-whisper / faster-whisper: `{ segments: [{ start, end, text, words?: [{ start, end, word }] }] }`
 * (seconds); whisper.cpp `-oj`: `{ transcription: [{ offsets: { from, to } (ms), text }] }`.
 */
function whisperCues(content: string): TranscriptCue[] {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (error) {
    throw new InvalidArgumentError(`The WHISPER_JSON transcript is not valid JSON: ${(error as Error).message}.`);
  }
  const root = json as { segments?: unknown; transcription?: unknown };
  const list = Array.isArray(json) ? json : (root?.segments ?? root?.transcription);
  const field = Array.isArray(json) ? '' : root?.segments !== undefined ? 'segments' : 'transcription';
  if (!Array.isArray(list)) {
    throw new InvalidArgumentError(
      'The WHISPER_JSON transcript needs a "segments" array (openai-whisper, faster-whisper) or a "transcription" array (whisper.cpp).',
    );
  }
  const cues: TranscriptCue[] = [];
  list.forEach((raw: WhisperSegmentJson, index) => {
    const where = `${field}[${index}]`;
    if (raw === null || typeof raw !== 'object') throw new InvalidArgumentError(`${where} must be an object with start, end and text.`);
    const fromMs = raw.offsets !== undefined;
    const startSec = fromMs ? num(raw.offsets?.from, `${where}.offsets.from`) / 1000 : num(raw.start, `${where}.start`);
    const endSec = fromMs ? num(raw.offsets?.to, `${where}.offsets.to`) / 1000 : num(raw.end, `${where}.end`);
    if (typeof raw.text !== 'string') throw new InvalidArgumentError(`${where}.text must be a string.`);
    const text = raw.text.replace(/\s+/g, ' ').trim();
    if (text === '') return;
    const cue: TranscriptCue = { startSec, endSec, text };
    if (raw.words !== undefined) {
      if (!Array.isArray(raw.words)) throw new InvalidArgumentError(`${where}.words must be an array.`);
      const words: TranscriptWord[] = raw.words.map((w: WhisperWordJson, wi) => {
        const at = `${where}.words[${wi}]`;
        const wordText = typeof w?.word === 'string' ? w.word : w?.text;
        if (typeof wordText !== 'string') throw new InvalidArgumentError(`${at}.word must be a string.`);
        const word = { startSec: num(w.start, `${at}.start`), endSec: num(w.end, `${at}.end`), text: wordText.trim() };
        checkTimes(word, at);
        return word;
      });
      const kept = words.filter((w) => w.text !== '').sort((a, b) => a.startSec - b.startSec);
      if (kept.length > 0) cue.words = kept;
    }
    cues.push(cue);
  });
  return cues;
}

function num(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(`${field} must be a number of seconds, got ${JSON.stringify(value) ?? 'nothing'}.`);
  }
  return value;
}

function checkTimes(span: { startSec: number; endSec: number }, where: string, durationSec?: number): void {
  if (span.startSec < 0 || span.endSec < 0)
    throw new InvalidArgumentError(`The transcript's ${where} has a negative time (${span.startSec} s to ${span.endSec} s).`);
  if (span.endSec < span.startSec) throw new InvalidArgumentError(`The transcript's ${where} ends (${span.endSec} s) before it starts (${span.startSec} s).`);
  if (durationSec !== undefined && span.endSec > durationSec + END_TOLERANCE_SEC) {
    throw new InvalidArgumentError(
      `The transcript's ${where} ends at ${span.endSec.toFixed(3)} s, beyond the ${durationSec.toFixed(3)} s recording; is it the transcript of another recording?`,
    );
  }
}
