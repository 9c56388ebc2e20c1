/**
 * Attribution of transcript cues to diarized speakers (pure; no I/O). Each word (or the whole cue when
 * it has no word times) goes to the speaker whose turns cover most of it; a span no turn covers goes to
 * the speaker nearest in time. A cue is split only at word times where the speaker changes and cues are
 * never merged, so every line of the imported file stays recognisable.
 */
import type { SpeakerTurn } from '../diarization/types';
import type { TranscriptCue, TranscriptSegment, TranscriptWord } from './types';

interface Attribution {
  speaker: string | null;
  overlap: boolean;
}

/** Turns sorted by start with the running maximum end, so overlapping turns are found by binary search. */
export class TurnIndex {
  private readonly turns: SpeakerTurn[];
  private readonly maxEndUpTo: number[]; // [turns.length] max end of turns[0..i]
  private readonly maxEndIndex: number[]; // [turns.length] index of the turn holding that max end

  constructor(turns: readonly SpeakerTurn[]) {
    this.turns = turns.filter((t) => t.endSec > t.startSec).sort((a, b) => a.startSec - b.startSec);
    this.maxEndUpTo = [];
    this.maxEndIndex = [];
    this.turns.forEach((turn, i) => {
      const prev = i > 0 ? this.maxEndUpTo[i - 1] : -Infinity;
      const takeNew = turn.endSec > prev;
      this.maxEndUpTo.push(takeNew ? turn.endSec : prev);
      this.maxEndIndex.push(takeNew ? i : this.maxEndIndex[i - 1]);
    });
  }

  /** Best speaker of [startSec, endSec] and whether another speaker also talks in it. */
  attribute(startSec: number, endSec: number): Attribution {
    if (this.turns.length === 0) return { speaker: null, overlap: false };
    const firstAfter = this.firstStartingAtOrAfter(endSec > startSec ? endSec : startSec + 1e-9);
    const coverage = new Map<string, number>();
    for (let i = firstAfter - 1; i >= 0 && this.maxEndUpTo[i] > startSec; i--) {
      const turn = this.turns[i];
      const covered = Math.min(turn.endSec, endSec) - Math.max(turn.startSec, startSec);
      // A zero-length span (a word with start == end) counts as covered when it lies inside the turn.
      const amount = endSec > startSec ? covered : turn.startSec <= startSec && turn.endSec > startSec ? 1 : 0;
      if (amount > 0) coverage.set(turn.speaker, (coverage.get(turn.speaker) ?? 0) + amount);
    }
    if (coverage.size > 0) {
      let best: string | null = null;
      let bestAmount = -1;
      for (const [speaker, amount] of coverage) {
        if (amount > bestAmount || (amount === bestAmount && best !== null && speaker < best)) [best, bestAmount] = [speaker, amount];
      }
      return { speaker: best, overlap: coverage.size > 1 };
    }
    return { speaker: this.nearest(startSec, endSec, firstAfter), overlap: false };
  }

  /** The speaker of the turn with the smallest gap to a span no turn covers. */
  private nearest(startSec: number, endSec: number, firstAfter: number): string {
    const before = firstAfter > 0 ? this.turns[this.maxEndIndex[firstAfter - 1]] : undefined;
    const after = firstAfter < this.turns.length ? this.turns[firstAfter] : undefined;
    if (before === undefined) return after!.speaker;
    if (after === undefined) return before.speaker;
    return startSec - before.endSec <= after.startSec - endSec ? before.speaker : after.speaker;
  }

  private firstStartingAtOrAfter(timeSec: number): number {
    let lo = 0;
    let hi = this.turns.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.turns[mid].startSec < timeSec) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Segments in cue order: one per cue, or several where the cue's words change speaker. */
export function alignTranscript(cues: readonly TranscriptCue[], turns: readonly SpeakerTurn[]): TranscriptSegment[] {
  const index = new TurnIndex(turns);
  return cues.flatMap((cue) => (cue.words && cue.words.length > 0 ? splitByWords(cue, cue.words, index) : [wholeCue(cue, index)]));
}

function wholeCue(cue: TranscriptCue, index: TurnIndex): TranscriptSegment {
  const { speaker, overlap } = index.attribute(cue.startSec, cue.endSec);
  return { startSec: cue.startSec, endSec: cue.endSec, text: cue.text, speaker, overlap };
}

function splitByWords(cue: TranscriptCue, words: TranscriptWord[], index: TurnIndex): TranscriptSegment[] {
  const attributed = words.map((word) => ({ word, ...index.attribute(word.startSec, word.endSec) }));
  const runs: (typeof attributed)[] = [];
  for (const item of attributed) {
    const run = runs[runs.length - 1];
    if (run && run[0].speaker === item.speaker) run.push(item);
    else runs.push([item]);
  }
  return runs.map((run, r) => {
    const next = runs[r + 1];
    return {
      // The first part keeps the cue's start, the last its end; inner boundaries sit on word times.
      startSec: r === 0 ? Math.min(cue.startSec, run[0].word.startSec) : run[0].word.startSec,
      endSec: next ? next[0].word.startSec : Math.max(cue.endSec, run[run.length - 1].word.endSec),
      text: runs.length === 1 ? cue.text : run.map((item) => item.word.text).join(' '),
      speaker: run[0].speaker,
      overlap: run.some((item) => item.overlap),
      words: run.map((item) => item.word),
    };
  });
}
