/** Transcript formats accepted on import (the GraphQL enum mirrors these names). */
export const TRANSCRIPT_FORMATS = ['VTT', 'SRT', 'WHISPER_JSON'] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];

/** One word with its own time, from ASR output that has word timestamps. */
export interface TranscriptWord {
  startSec: number;
  endSec: number;
  text: string;
}

/** One cue as written in the imported file; `words` only when the file carries word times. */
export interface TranscriptCue {
  startSec: number;
  endSec: number;
  text: string;
  words?: TranscriptWord[];
}

/** A cue (or the part of one) attributed to one speaker. */
export interface TranscriptSegment {
  startSec: number;
  endSec: number;
  text: string;
  /** Speaker label from the diarization; null only when the meeting has no speakers at all. */
  speaker: string | null;
  /** True when another speaker's turn overlaps this segment's speech. */
  overlap: boolean;
  words?: TranscriptWord[];
}
