/**
 * Statistics over many meetings, per person. Each meeting's speakers assigned to a person are counted
 * under that person (two speakers of one meeting given the same person count as one voice: their
 * overlap is not overlap). Speakers assigned to nobody go into one "unassigned" row: "Speaker 2" of one
 * meeting and "Speaker 2" of another are unrelated voices, so per-speaker rows across meetings would
 * mean nothing, while the unassigned share says how much talk is still unidentified.
 */
import { meetingStats, type AnalyticsTurn, type StatsOptions } from './meeting-stats';

export interface AggregateMeetingInput {
  meetingId: string;
  durationSec: number;
  turns: readonly AnalyticsTurn[];
  /** speakerId → personId for assigned speakers; speakers missing here are unassigned. */
  personOfSpeaker: ReadonlyMap<string, string>;
}

export interface PersonAggregate {
  /** undefined: the row of unassigned speakers. */
  personId?: string;
  /** Meetings in which this person (or an unassigned speaker) talked. */
  meetings: number;
  talkTimeSec: number;
  /** Of all talk time over the meetings (shares add up to 1). */
  talkShare: number;
  turns: number;
  meanTurnSec: number;
  longestTurnSec: number;
  interruptions: number;
  interrupted: number;
  overlapSec: number;
}

export interface AggregateStats {
  meetings: number;
  durationSec: number;
  speechSec: number;
  overlapSec: number;
  silenceSec: number;
  /** Silence over the summed duration of the meetings. */
  silenceRatio: number;
  interruptions: number;
  /** People by talk time, longest first; the unassigned row, if any, last. */
  people: PersonAggregate[];
}

const UNASSIGNED = '\0unassigned';

interface Accumulator {
  meetings: number;
  talkTimeSec: number;
  turns: number;
  turnSec: number;
  longestTurnSec: number;
  interruptions: number;
  interrupted: number;
  overlapSec: number;
}

export function aggregateStats(meetings: readonly AggregateMeetingInput[], options: StatsOptions = {}): AggregateStats {
  const rows = new Map<string, Accumulator>();
  const totals = { durationSec: 0, speechSec: 0, overlapSec: 0, silenceSec: 0, interruptions: 0 };
  for (const meeting of meetings) {
    // Assigned speakers are keyed by person; unassigned ones keep their own id for this meeting's stats.
    const keyOf = (speakerId: string): string => {
      const person = meeting.personOfSpeaker.get(speakerId);
      return person !== undefined ? `p:${person}` : `s:${speakerId}`;
    };
    const stats = meetingStats(
      meeting.turns.map((t) => ({ ...t, speakerId: keyOf(t.speakerId) })),
      meeting.durationSec,
      options,
    );
    totals.durationSec += stats.durationSec;
    totals.speechSec += stats.speechSec;
    totals.overlapSec += stats.overlapSec;
    totals.silenceSec += stats.silenceSec;
    totals.interruptions += stats.interruptions;
    const seen = new Set<string>();
    for (const s of stats.speakers) {
      const row = s.speakerId.startsWith('p:') ? s.speakerId.slice(2) : UNASSIGNED;
      let acc = rows.get(row);
      if (!acc)
        rows.set(row, (acc = { meetings: 0, talkTimeSec: 0, turns: 0, turnSec: 0, longestTurnSec: 0, interruptions: 0, interrupted: 0, overlapSec: 0 }));
      if (!seen.has(row)) acc.meetings += 1;
      seen.add(row);
      acc.talkTimeSec += s.talkTimeSec;
      acc.turns += s.turns;
      acc.turnSec += s.meanTurnSec * s.turns;
      acc.longestTurnSec = Math.max(acc.longestTurnSec, s.longestTurnSec);
      acc.interruptions += s.interruptions;
      acc.interrupted += s.interrupted;
      acc.overlapSec += s.overlapSec;
    }
  }
  const totalTalk = [...rows.values()].reduce((sum, r) => sum + r.talkTimeSec, 0);
  const people = [...rows].map(([key, r]): PersonAggregate => ({
    personId: key === UNASSIGNED ? undefined : key,
    meetings: r.meetings,
    talkTimeSec: r.talkTimeSec,
    talkShare: totalTalk > 0 ? r.talkTimeSec / totalTalk : 0,
    turns: r.turns,
    meanTurnSec: r.turns > 0 ? r.turnSec / r.turns : 0,
    longestTurnSec: r.longestTurnSec,
    interruptions: r.interruptions,
    interrupted: r.interrupted,
    overlapSec: r.overlapSec,
  }));
  people.sort(
    (a, b) =>
      Number(a.personId === undefined) - Number(b.personId === undefined) ||
      b.talkTimeSec - a.talkTimeSec ||
      (a.personId ?? '').localeCompare(b.personId ?? ''),
  );
  return {
    meetings: meetings.length,
    ...totals,
    silenceRatio: totals.durationSec > 0 ? totals.silenceSec / totals.durationSec : 0,
    people,
  };
}
