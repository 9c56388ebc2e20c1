import type { SpeakerFieldsFragment } from '../gql/graphql';
import type { TurnNode } from './turn-pages';

/** One speaker's turns as sorted typed arrays, so drawing and hit-testing are binary searches. */
export interface Lane {
  speakerId: string;
  label: string;
  color: string;
  starts: Float64Array; // [n] seconds, ascending
  ends: Float64Array; // [n]
  ids: string[]; // [n]
  /** Longest turn, bounds how far back a search must look for a turn covering a time. */
  maxLength: number;
}

export function buildLanes(speakers: readonly SpeakerFieldsFragment[], turnNodes: readonly TurnNode[], colorOf: (index: number) => string): Lane[] {
  const bySpeaker = new Map<string, { start: number; end: number; id: string }[]>();
  for (const s of speakers) bySpeaker.set(s.id, []);
  for (const t of turnNodes) {
    let list = bySpeaker.get(t.speaker.id);
    if (!list) bySpeaker.set(t.speaker.id, (list = []));
    list.push({ start: t.start, end: t.end, id: t.id });
  }
  return speakers.map((s) => {
    const turns = (bySpeaker.get(s.id) ?? []).sort((a, b) => a.start - b.start);
    let maxLength = 0;
    for (const t of turns) maxLength = Math.max(maxLength, t.end - t.start);
    return {
      speakerId: s.id,
      label: s.person?.name ?? s.label,
      color: colorOf(s.colorIndex),
      starts: Float64Array.from(turns, (t) => t.start),
      ends: Float64Array.from(turns, (t) => t.end),
      ids: turns.map((t) => t.id),
      maxLength,
    };
  });
}

/** Index of the first turn whose start is >= t. */
export function lowerBound(starts: Float64Array, t: number): number {
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The turn of `lane` that covers time t, or -1. */
export function turnAt(lane: Lane, t: number): number {
  for (let i = lowerBound(lane.starts, t + 1e-9) - 1; i >= 0 && lane.starts[i] >= t - lane.maxLength; i--) {
    if (lane.ends[i] >= t) return i;
  }
  return -1;
}
