import { aggregateStats } from './aggregate';
import type { AnalyticsTurn } from './meeting-stats';

const turn = (speakerId: string, start: number, end: number): AnalyticsTurn => ({ speakerId, start, end });

describe('aggregateStats', () => {
  it('sums per person over meetings, with unassigned speakers in one row (hand-computed)', () => {
    const result = aggregateStats([
      {
        meetingId: 'm1',
        durationSec: 10,
        turns: [turn('s1', 0, 4), turn('s2', 3, 6), turn('s3', 7, 9)],
        personOfSpeaker: new Map([['s1', 'P']]),
      },
      {
        meetingId: 'm2',
        durationSec: 10,
        // t1 and t3 are both P: counted as one voice.
        turns: [turn('t1', 0, 2), turn('t2', 1, 5), turn('t3', 6, 8)],
        personOfSpeaker: new Map([
          ['t1', 'P'],
          ['t2', 'Q'],
          ['t3', 'P'],
        ]),
      },
    ]);
    expect(result).toMatchObject({ meetings: 2, durationSec: 20, speechSec: 15, overlapSec: 2, silenceSec: 5, silenceRatio: 0.25, interruptions: 2 });
    expect(result.people.map((p) => p.personId)).toEqual(['P', 'Q', undefined]);
    const [p, q, unassigned] = result.people;
    expect(p).toMatchObject({ meetings: 2, talkTimeSec: 8, turns: 3, longestTurnSec: 4, interruptions: 0, interrupted: 2, overlapSec: 2 });
    expect(p.meanTurnSec).toBeCloseTo(8 / 3, 12);
    expect(p.talkShare).toBeCloseTo(8 / 17, 12);
    expect(q).toMatchObject({ meetings: 1, talkTimeSec: 4, turns: 1, meanTurnSec: 4, longestTurnSec: 4, interruptions: 1, interrupted: 0, overlapSec: 1 });
    expect(unassigned).toMatchObject({
      meetings: 1,
      talkTimeSec: 5,
      turns: 2,
      meanTurnSec: 2.5,
      longestTurnSec: 3,
      interruptions: 1,
      interrupted: 0,
      overlapSec: 1,
    });
    expect(unassigned.talkShare).toBeCloseTo(5 / 17, 12);
  });

  it('gives zeros for no meetings', () => {
    expect(aggregateStats([])).toEqual({
      meetings: 0,
      durationSec: 0,
      speechSec: 0,
      overlapSec: 0,
      silenceSec: 0,
      silenceRatio: 0,
      interruptions: 0,
      people: [],
    });
  });
});
