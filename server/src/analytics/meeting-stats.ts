/**
 * Conversation statistics of one meeting from its turns: pure functions, times in seconds.
 *
 * Definitions (a speaker's turns may overlap other speakers' turns; diarization outputs overlapped speech):
 * - talk time: length of the union of the speaker's own turns (a speaker never overlaps themself).
 * - talk share: talk time / the sum of every speaker's talk time, so shares add up to 1 (overlapped
 *   speech counts for each speaker talking).
 * - turns, mean turn, longest turn: over the speaker's turns as given (no merging of adjacent turns).
 * - interruption: turn T of speaker A interrupts speaker B when T starts strictly inside a turn U of B
 *   and not in U's last `toleranceSec`:  U.start < T.start < U.end − toleranceSec. A turn that starts at
 *   the same instant as U, or exactly where U ends (touching turns), is not an interruption; neither is a
 *   start within the tolerance before U ends (a handover blurred by boundary jitter). A turn inside
 *   turns of several speakers is one interruption by A, and counts as interrupted for each of them.
 * - overlap time: length of the time covered by turns of >= 2 distinct speakers.
 * - silence ratio: length of [0, duration] covered by no turn / duration (0 for a zero-length meeting).
 */
import { InvalidArgumentError } from '../common/errors';

export interface AnalyticsTurn {
  speakerId: string;
  /** Seconds from the start of the recording. */
  start: number;
  end: number;
}

export interface StatsOptions {
  /** See `interruption` above. Default 0. */
  interruptionToleranceSec?: number;
}

export interface SpeakerStats {
  speakerId: string;
  talkTimeSec: number;
  talkShare: number;
  turns: number;
  meanTurnSec: number;
  longestTurnSec: number;
  /** Turns of this speaker that interrupted someone. */
  interruptions: number;
  /** Times another speaker started a turn while this one was talking. */
  interrupted: number;
  /** Seconds this speaker talked while at least one other speaker did. */
  overlapSec: number;
}

export interface MeetingStats {
  durationSec: number;
  /** Time of [0, duration] covered by at least one speaker. */
  speechSec: number;
  overlapSec: number;
  silenceSec: number;
  silenceRatio: number;
  interruptions: number;
  /** Ordered by talk time, longest first (then by speaker id). */
  speakers: SpeakerStats[];
}

type Interval = [start: number, end: number];

/** Sorted, disjoint union of intervals (touching ones joined). */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Interval[] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

export function totalLength(intervals: readonly Interval[]): number {
  return intervals.reduce((sum, [s, e]) => sum + (e - s), 0);
}

/** Length of the intersection of two sorted disjoint interval lists. */
export function intersectionLength(a: readonly Interval[], b: readonly Interval[]): number {
  let i = 0;
  let j = 0;
  let total = 0;
  while (i < a.length && j < b.length) {
    const s = Math.max(a[i][0], b[j][0]);
    const e = Math.min(a[i][1], b[j][1]);
    if (e > s) total += e - s;
    if (a[i][1] < b[j][1]) i++;
    else j++;
  }
  return total;
}

/** Throws a clear error for a turn that is not a finite, non-negative, forward time range. */
export function validateTurns(turns: readonly AnalyticsTurn[]): void {
  turns.forEach((t, i) => {
    if (!Number.isFinite(t.start) || !Number.isFinite(t.end) || t.start < 0 || t.end < t.start) {
      throw new InvalidArgumentError(
        `Turn ${i} of speaker "${t.speakerId}" runs from ${t.start} s to ${t.end} s; turns need finite times with 0 <= start <= end.`,
      );
    }
  });
}

/** Per speaker: the union of their turns. */
function speechBySpeaker(turns: readonly AnalyticsTurn[]): Map<string, Interval[]> {
  const raw = new Map<string, Interval[]>();
  for (const t of turns) {
    const list = raw.get(t.speakerId);
    if (list) list.push([t.start, t.end]);
    else raw.set(t.speakerId, [[t.start, t.end]]);
  }
  return new Map([...raw].map(([id, list]) => [id, mergeIntervals(list)]));
}

/** Time covered by at least `minSpeakers` distinct speakers, as a sorted disjoint list (sweep over boundaries). */
function coveredBy(bySpeaker: ReadonlyMap<string, Interval[]>, minSpeakers: number): Interval[] {
  const events: [time: number, delta: number][] = [];
  for (const list of bySpeaker.values()) for (const [s, e] of list) events.push([s, 1], [e, -1]);
  // Ends before starts at the same instant: touching turns do not overlap.
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Interval[] = [];
  let active = 0;
  let openedAt = 0;
  for (const [time, delta] of events) {
    const before = active;
    active += delta;
    if (before < minSpeakers && active >= minSpeakers) openedAt = time;
    else if (before >= minSpeakers && active < minSpeakers && time > openedAt) out.push([openedAt, time]);
  }
  return mergeIntervals(out);
}

export function meetingStats(turns: readonly AnalyticsTurn[], durationSec: number, options: StatsOptions = {}): MeetingStats {
  if (!Number.isFinite(durationSec) || durationSec < 0)
    throw new InvalidArgumentError(`Meeting duration must be a non-negative number of seconds, got ${durationSec}.`);
  const tolerance = options.interruptionToleranceSec ?? 0;
  if (!Number.isFinite(tolerance) || tolerance < 0) throw new InvalidArgumentError(`interruptionToleranceSec must be >= 0, got ${tolerance}.`);
  validateTurns(turns);

  const bySpeaker = speechBySpeaker(turns);
  const overlap = coveredBy(bySpeaker, 2);
  const speech = coveredBy(bySpeaker, 1);
  const inMeeting = intersectionLength(speech, [[0, durationSec]]);

  const interruptions = new Map<string, number>();
  const interrupted = new Map<string, number>();
  // Sorted by start: the turns that can contain a start are those starting before it.
  const byStart = [...turns].sort((a, b) => a.start - b.start);
  for (const t of byStart) {
    const victims = new Set<string>();
    for (const u of byStart) {
      if (u.start >= t.start) break;
      if (u.speakerId !== t.speakerId && t.start < u.end - tolerance) victims.add(u.speakerId);
    }
    if (victims.size === 0) continue;
    interruptions.set(t.speakerId, (interruptions.get(t.speakerId) ?? 0) + 1);
    for (const v of victims) interrupted.set(v, (interrupted.get(v) ?? 0) + 1);
  }

  const totalTalk = [...bySpeaker.values()].reduce((sum, list) => sum + totalLength(list), 0);
  const speakers = [...bySpeaker].map(([speakerId, speech]): SpeakerStats => {
    const own = turns.filter((t) => t.speakerId === speakerId).map((t) => t.end - t.start);
    const talkTimeSec = totalLength(speech);
    return {
      speakerId,
      talkTimeSec,
      talkShare: totalTalk > 0 ? talkTimeSec / totalTalk : 0,
      turns: own.length,
      meanTurnSec: own.reduce((a, b) => a + b, 0) / own.length,
      longestTurnSec: Math.max(...own),
      interruptions: interruptions.get(speakerId) ?? 0,
      interrupted: interrupted.get(speakerId) ?? 0,
      overlapSec: intersectionLength(speech, overlap),
    };
  });
  speakers.sort((a, b) => b.talkTimeSec - a.talkTimeSec || a.speakerId.localeCompare(b.speakerId));

  const silenceSec = Math.max(0, durationSec - inMeeting);
  return {
    durationSec,
    speechSec: inMeeting,
    overlapSec: totalLength(overlap),
    silenceSec,
    silenceRatio: durationSec > 0 ? silenceSec / durationSec : 0,
    interruptions: [...interruptions.values()].reduce((a, b) => a + b, 0),
    speakers,
  };
}
