import { InvalidArgumentError } from '../common/errors';
import { meetingStats, mergeIntervals, type AnalyticsTurn } from './meeting-stats';

const turn = (speakerId: string, start: number, end: number): AnalyticsTurn => ({ speakerId, start, end });

describe('meetingStats', () => {
  // 0    4 5    8 9 10 11 12   14 15         20
  // A ======       ==========
  // B     =======              ====
  // C                 ==            ==
  const timeline = [turn('A', 0, 5), turn('B', 4, 9), turn('A', 8, 12), turn('C', 10, 11), turn('B', 12, 14), turn('C', 14, 15)];

  it('gives talk time, share, turns, mean and longest turn per speaker (hand-computed)', () => {
    const stats = meetingStats(timeline, 20);
    expect(stats.speakers.map((s) => s.speakerId)).toEqual(['A', 'B', 'C']);
    const [a, b, c] = stats.speakers;
    expect(a).toMatchObject({ talkTimeSec: 9, turns: 2, meanTurnSec: 4.5, longestTurnSec: 5 });
    expect(b).toMatchObject({ talkTimeSec: 7, turns: 2, meanTurnSec: 3.5, longestTurnSec: 5 });
    expect(c).toMatchObject({ talkTimeSec: 2, turns: 2, meanTurnSec: 1, longestTurnSec: 1 });
    expect(a.talkShare).toBeCloseTo(9 / 18, 12);
    expect(b.talkShare).toBeCloseTo(7 / 18, 12);
    expect(c.talkShare).toBeCloseTo(2 / 18, 12);
  });

  it('counts overlap (>= 2 speakers), speech and silence; touching turns do not overlap', () => {
    const stats = meetingStats(timeline, 20);
    expect(stats.overlapSec).toBe(3); // [4,5] A+B, [8,9] A+B, [10,11] A+C
    expect(stats.speechSec).toBe(15); // [0,15]
    expect(stats.silenceSec).toBe(5);
    expect(stats.silenceRatio).toBe(0.25);
    expect(stats.speakers.map((s) => s.overlapSec)).toEqual([3, 2, 1]);
  });

  it('counts a start strictly inside another speaker’s turn as an interruption, not touching turns', () => {
    const stats = meetingStats(timeline, 20);
    // B@4 inside A[0,5]; A@8 inside B[4,9]; C@10 nested in A[8,12]; B@12 and C@14 only touch.
    expect(stats.interruptions).toBe(3);
    expect(stats.speakers.map((s) => [s.speakerId, s.interruptions, s.interrupted])).toEqual([
      ['A', 1, 2],
      ['B', 1, 1],
      ['C', 1, 0],
    ]);
  });

  it('ignores starts within the tolerance before the other turn ends', () => {
    const stats = meetingStats(timeline, 20, { interruptionToleranceSec: 1.5 });
    // B@4 vs A ending 5 (4 >= 3.5) and A@8 vs B ending 9 (8 >= 7.5) are handovers; C@10 < 12 - 1.5 stays.
    expect(stats.interruptions).toBe(1);
    expect(stats.speakers.find((s) => s.speakerId === 'C')!.interruptions).toBe(1);
  });

  it('does not count a simultaneous start; a start inside two speakers is one interruption, two interrupted', () => {
    expect(meetingStats([turn('A', 0, 4), turn('B', 0, 2)], 4).interruptions).toBe(0);
    const nested = meetingStats([turn('A', 0, 10), turn('B', 2, 8), turn('C', 3, 5)], 10);
    expect(nested.interruptions).toBe(2);
    expect(nested.overlapSec).toBe(6); // [2,8]
    expect(nested.speakers.map((s) => [s.speakerId, s.interruptions, s.interrupted])).toEqual([
      ['A', 0, 2],
      ['B', 1, 1],
      ['C', 1, 0],
    ]);
  });

  it('counts a speaker’s own overlapping turns once, and clips speech to the meeting', () => {
    const stats = meetingStats([turn('A', 0, 3), turn('A', 2, 5), turn('B', 9, 11)], 10);
    expect(stats.speakers[0]).toMatchObject({ speakerId: 'A', talkTimeSec: 5, turns: 2, meanTurnSec: 3, overlapSec: 0 });
    expect(stats.overlapSec).toBe(0);
    expect(stats.speechSec).toBe(6); // [0,5] + [9,10]
    expect(stats.silenceRatio).toBeCloseTo(0.4, 12);
  });

  it('handles a meeting without turns', () => {
    expect(meetingStats([], 30)).toEqual({ durationSec: 30, speechSec: 0, overlapSec: 0, silenceSec: 30, silenceRatio: 1, interruptions: 0, speakers: [] });
  });

  it('rejects turns running backwards and a negative duration', () => {
    expect(() => meetingStats([turn('A', 5, 4)], 10)).toThrow(InvalidArgumentError);
    expect(() => meetingStats([turn('A', 5, 4)], 10)).toThrow(/Turn 0 of speaker "A" runs from 5 s to 4 s/);
    expect(() => meetingStats([], -1)).toThrow(/non-negative/);
  });

  it('merges touching and overlapping intervals', () => {
    expect(
      mergeIntervals([
        [5, 6],
        [0, 2],
        [2, 3],
        [1, 1.5],
        [7, 7],
      ]),
    ).toEqual([
      [0, 3],
      [5, 6],
    ]);
  });
});
