/**
 * Diarization error rate with md-eval semantics (NIST md-eval-v22 `-c <collar>` and `-1`), overlap scored.
 *
 * 1. Turns of the same speaker that overlap are merged (md-eval refuses them; a hypothesis may have them).
 * 2. Scored timeline = UEM (default: [0, last end of reference or hypothesis])
 *    minus ± collarSec around every reference turn boundary (md-eval `-c`)
 *    minus, with skipOverlap, the regions where the reference has 2+ speakers (md-eval `-1`).
 * 3. The timeline is cut at every boundary into elementary segments; on each, with Nref reference speakers,
 *    Nhyp hypothesis speakers and Ncorrect hypothesis speakers whose mapped reference speaker is present:
 *      miss = max(0, Nref − Nhyp), false alarm = max(0, Nhyp − Nref),
 *      confusion = min(Nref, Nhyp) − Ncorrect, scored speech = Nref, all × duration.
 * 4. The hyp→ref mapping is one-to-one and maximises the total time each mapped pair speaks together
 *    within the scored timeline (Hungarian algorithm), as pyannote.metrics does. (md-eval computes its mapping
 *    before removing the collars; the two differ only when a collar changes which pairing wins.)
 *
 * DER = (miss + false alarm + confusion) / scored speech, a fraction (0.1 = 10 %), and can exceed 1.
 */
import { munkres } from 'munkres';
import type { SpeakerTurn } from '../diarization/types';
import { InvalidArgumentError } from '../common/errors';
import { normalizeRanges, subtractRanges, type TimeRange } from './uem';

/** md-eval's customary no-score collar: ± 0.25 s around each reference boundary. */
export const DEFAULT_COLLAR_SEC = 0.25;

/** Boundaries closer than this are one boundary, so float noise in "3.34 + 0.54" makes no sliver segments. */
const TIME_EPSILON_SEC = 1e-9;

export interface DerOptions {
  /** ± this many seconds around every reference turn boundary are not scored (md-eval -c). Default 0.25. */
  collarSec?: number;
  /** Drop the regions where the reference has 2+ speakers (md-eval -1). Default false. */
  skipOverlap?: boolean;
  /**
   * Scored regions; default the whole file, [0, last end of reference or hypothesis]. (md-eval without a UEM
   * scores only the reference's extent, so it would ignore hypothesis speech before the first or after the last
   * reference turn; pass the recording's UEM to make the two agree.)
   */
  uem?: readonly TimeRange[];
}

export interface DerResult {
  /** Reference speaker time in the scored timeline: Σ Nref × duration (md-eval SCORED SPEAKER TIME). */
  scoredSpeechSec: number;
  missedSec: number;
  falseAlarmSec: number;
  confusionSec: number;
  /** (missed + false alarm + confusion) / scored speech; 0 when nothing is scored and nothing is wrong, Infinity when nothing is scored but the hypothesis speaks. */
  der: number;
  /** Hypothesis label → reference label, for pairs that share scored time. Empty for pooled results. */
  mapping: Record<string, string>;
  /** The part of the above inside reference overlap (2+ reference speakers), where most missed speech lies. */
  overlap?: OverlapSplit;
}

/** Scored speech, miss and confusion within the stretches where the reference has 2+ speakers. */
export interface OverlapSplit {
  scoredSpeechSec: number;
  missedSec: number;
  confusionSec: number;
}

/** One stretch of the scored timeline on which the set of active speakers is constant. */
interface ElementarySegment {
  durationSec: number;
  /** Indices into the reference speaker list. */
  ref: number[];
  /** Indices into the hypothesis speaker list. */
  hyp: number[];
}

interface SpeakerTurns {
  speakers: string[];
  /** Per speaker, sorted turns with overlaps merged. */
  turns: TimeRange[][];
}

export function computeDer(reference: readonly SpeakerTurn[], hypothesis: readonly SpeakerTurn[], options: DerOptions = {}): DerResult {
  const collarSec = options.collarSec ?? DEFAULT_COLLAR_SEC;
  if (!Number.isFinite(collarSec) || collarSec < 0) {
    throw new InvalidArgumentError(`collarSec must be a non-negative number of seconds, got ${collarSec}.`);
  }
  const ref = mergeTurnsBySpeaker(reference, 'reference');
  const hyp = mergeTurnsBySpeaker(hypothesis, 'hypothesis');
  const scored = scoredTimeline(ref, hyp, { collarSec, skipOverlap: options.skipOverlap ?? false, uem: options.uem });
  const segments = elementarySegments(scored, ref, hyp);
  const mapping = optimalMapping(segments, ref.speakers.length, hyp.speakers.length);
  return tally(segments, mapping, ref.speakers, hyp.speakers);
}

/** Sums durations over files; the pooled DER is total error over total scored speech. */
export function poolDer(results: readonly DerResult[]): DerResult {
  const sum = (pick: (r: DerResult) => number): number => results.reduce((total, r) => total + pick(r), 0);
  const scoredSpeechSec = sum((r) => r.scoredSpeechSec);
  const missedSec = sum((r) => r.missedSec);
  const falseAlarmSec = sum((r) => r.falseAlarmSec);
  const confusionSec = sum((r) => r.confusionSec);
  const pooled: DerResult = {
    scoredSpeechSec,
    missedSec,
    falseAlarmSec,
    confusionSec,
    der: errorRate(missedSec + falseAlarmSec + confusionSec, scoredSpeechSec),
    mapping: {},
  };
  if (results.length > 0 && results.every((r) => r.overlap)) {
    pooled.overlap = {
      scoredSpeechSec: sum((r) => r.overlap!.scoredSpeechSec),
      missedSec: sum((r) => r.overlap!.missedSec),
      confusionSec: sum((r) => r.overlap!.confusionSec),
    };
  }
  return pooled;
}

/**
 * Groups turns by speaker (speakers sorted by label, for a deterministic mapping), drops empty turns and
 * merges turns of one speaker that overlap. Turns that only touch stay separate, so each keeps its collar
 * boundaries, as in md-eval and pyannote.metrics.
 */
function mergeTurnsBySpeaker(turns: readonly SpeakerTurn[], what: string): SpeakerTurns {
  const bySpeaker = new Map<string, TimeRange[]>();
  for (const turn of turns) {
    if (!Number.isFinite(turn.startSec) || !Number.isFinite(turn.endSec) || turn.endSec < turn.startSec) {
      throw new InvalidArgumentError(
        `Invalid ${what} turn of "${turn.speaker}": start ${turn.startSec} s, end ${turn.endSec} s; times must be finite with end >= start.`,
      );
    }
    if (turn.endSec === turn.startSec) continue;
    const list = bySpeaker.get(turn.speaker) ?? [];
    list.push({ startSec: turn.startSec, endSec: turn.endSec });
    bySpeaker.set(turn.speaker, list);
  }
  const speakers = [...bySpeaker.keys()].sort();
  const merged = speakers.map((speaker) => {
    const sorted = (bySpeaker.get(speaker) ?? []).sort((a, b) => a.startSec - b.startSec);
    const out: TimeRange[] = [];
    for (const t of sorted) {
      const last = out[out.length - 1];
      if (last && t.startSec < last.endSec) last.endSec = Math.max(last.endSec, t.endSec);
      else out.push({ ...t });
    }
    return out;
  });
  return { speakers, turns: merged };
}

function scoredTimeline(ref: SpeakerTurns, hyp: SpeakerTurns, options: { collarSec: number; skipOverlap: boolean; uem?: readonly TimeRange[] }): TimeRange[] {
  let scored: TimeRange[];
  if (options.uem) {
    scored = normalizeRanges(options.uem);
  } else {
    const lastEnd = [...ref.turns, ...hyp.turns].flat().reduce((end, t) => Math.max(end, t.endSec), 0);
    scored = lastEnd > 0 ? [{ startSec: 0, endSec: lastEnd }] : [];
  }
  if (options.collarSec > 0) {
    const c = options.collarSec;
    const collars = ref.turns.flat().flatMap((t) => [
      { startSec: t.startSec - c, endSec: t.startSec + c },
      { startSec: t.endSec - c, endSec: t.endSec + c },
    ]);
    scored = subtractRanges(scored, collars);
  }
  if (options.skipOverlap) scored = subtractRanges(scored, overlapRegions(ref));
  return scored;
}

/** Where two or more reference speakers talk at once. */
function overlapRegions(ref: SpeakerTurns): TimeRange[] {
  const events = ref.turns.flat().flatMap((t) => [
    { time: t.startSec, delta: 1 },
    { time: t.endSec, delta: -1 },
  ]);
  // Ends before starts at the same instant: touching turns are not overlap.
  events.sort((a, b) => a.time - b.time || a.delta - b.delta);
  const regions: TimeRange[] = [];
  let active = 0;
  let overlapStart = 0;
  for (const e of events) {
    const before = active;
    active += e.delta;
    if (before < 2 && active >= 2) overlapStart = e.time;
    if (before >= 2 && active < 2 && e.time > overlapStart) regions.push({ startSec: overlapStart, endSec: e.time });
  }
  return regions;
}

/** Cuts the scored timeline at every reference, hypothesis and region boundary; keeps segments with speech. */
function elementarySegments(scored: readonly TimeRange[], ref: SpeakerTurns, hyp: SpeakerTurns): ElementarySegment[] {
  type Track = 'scored' | 'ref' | 'hyp';
  const events: { time: number; track: Track; index: number; delta: number }[] = [];
  const push = (ranges: readonly TimeRange[], track: Track, index: number): void => {
    for (const r of ranges) {
      events.push({ time: r.startSec, track, index, delta: 1 });
      events.push({ time: r.endSec, track, index, delta: -1 });
    }
  };
  push(scored, 'scored', 0);
  ref.turns.forEach((turns, i) => push(turns, 'ref', i));
  hyp.turns.forEach((turns, i) => push(turns, 'hyp', i));
  events.sort((a, b) => a.time - b.time);

  const refActive = new Array<number>(ref.speakers.length).fill(0);
  const hypActive = new Array<number>(hyp.speakers.length).fill(0);
  let scoredActive = 0;
  const segments: ElementarySegment[] = [];
  let i = 0;
  while (i < events.length) {
    const time = events[i].time;
    // Apply every event at (or within epsilon of) this instant before looking at the stretch after it.
    while (i < events.length && events[i].time - time <= TIME_EPSILON_SEC) {
      const e = events[i];
      if (e.track === 'scored') scoredActive += e.delta;
      else if (e.track === 'ref') refActive[e.index] += e.delta;
      else hypActive[e.index] += e.delta;
      i += 1;
    }
    if (i >= events.length || scoredActive <= 0) continue;
    const durationSec = events[i].time - time;
    const refNow = activeIndices(refActive);
    const hypNow = activeIndices(hypActive);
    if (refNow.length > 0 || hypNow.length > 0) segments.push({ durationSec, ref: refNow, hyp: hypNow });
  }
  return segments;
}

function activeIndices(counts: readonly number[]): number[] {
  const out: number[] = [];
  counts.forEach((count, index) => {
    if (count > 0) out.push(index);
  });
  return out;
}

/** mapping[hypIndex] = refIndex, or undefined for an unmapped hypothesis speaker. */
function optimalMapping(segments: readonly ElementarySegment[], numRef: number, numHyp: number): (number | undefined)[] {
  const mapping = new Array<number | undefined>(numHyp).fill(undefined);
  if (numRef === 0 || numHyp === 0) return mapping;
  // [numHyp, numRef] seconds that each pair speaks together
  const together: number[][] = Array.from({ length: numHyp }, () => new Array<number>(numRef).fill(0));
  for (const seg of segments) {
    for (const h of seg.hyp) for (const r of seg.ref) together[h][r] += seg.durationSec;
  }
  const most = together.flat().reduce((a, b) => Math.max(a, b), 0);
  const cost = together.map((row) => row.map((seconds) => most - seconds));
  for (const [h, r] of munkres(cost)) {
    if (together[h][r] > 0) mapping[h] = r;
  }
  return mapping;
}

function tally(
  segments: readonly ElementarySegment[],
  mapping: readonly (number | undefined)[],
  refSpeakers: readonly string[],
  hypSpeakers: readonly string[],
): DerResult {
  let scoredSpeechSec = 0;
  let missedSec = 0;
  let falseAlarmSec = 0;
  let confusionSec = 0;
  const overlap: OverlapSplit = { scoredSpeechSec: 0, missedSec: 0, confusionSec: 0 };
  for (const seg of segments) {
    const nRef = seg.ref.length;
    const nHyp = seg.hyp.length;
    let nCorrect = 0;
    for (const h of seg.hyp) {
      const r = mapping[h];
      if (r !== undefined && seg.ref.includes(r)) nCorrect += 1;
    }
    scoredSpeechSec += nRef * seg.durationSec;
    missedSec += Math.max(0, nRef - nHyp) * seg.durationSec;
    falseAlarmSec += Math.max(0, nHyp - nRef) * seg.durationSec;
    confusionSec += (Math.min(nRef, nHyp) - nCorrect) * seg.durationSec;
    if (nRef >= 2) {
      overlap.scoredSpeechSec += nRef * seg.durationSec;
      overlap.missedSec += Math.max(0, nRef - nHyp) * seg.durationSec;
      overlap.confusionSec += (Math.min(nRef, nHyp) - nCorrect) * seg.durationSec;
    }
  }
  const labels: Record<string, string> = {};
  mapping.forEach((r, h) => {
    if (r !== undefined) labels[hypSpeakers[h]] = refSpeakers[r];
  });
  return {
    scoredSpeechSec,
    missedSec,
    falseAlarmSec,
    confusionSec,
    der: errorRate(missedSec + falseAlarmSec + confusionSec, scoredSpeechSec),
    mapping: labels,
    overlap,
  };
}

function errorRate(errorSec: number, scoredSec: number): number {
  if (scoredSec > 0) return errorSec / scoredSec;
  return errorSec > 0 ? Number.POSITIVE_INFINITY : 0;
}
