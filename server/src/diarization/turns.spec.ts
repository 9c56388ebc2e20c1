import { activityToTurns, smoothTurns, sortTurns, speakerLabel } from './turns';

// Grid of 0.5 s frames starting at 0.25 s: every boundary below is exact in binary floating point.
const GRID = { stepSec: 0.5, offsetSec: 0.25 };
const ACTIVE = Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 1, 1, 1]);

describe('activityToTurns', () => {
  it('turns runs of active frames into turns, closing one that reaches the end', () => {
    expect(activityToTurns(ACTIVE, 'A', GRID, 0, 0)).toEqual([
      { speaker: 'A', startSec: 0.75, endSec: 1.75 },
      { speaker: 'A', startSec: 2.75, endSec: 3.25 },
      { speaker: 'A', startSec: 3.75, endSec: 5.25 },
    ]);
  });

  it('fills gaps shorter than minDurationOff (a gap of exactly that length stays)', () => {
    expect(activityToTurns(ACTIVE, 'A', GRID, 0, 1.0)).toEqual([
      { speaker: 'A', startSec: 0.75, endSec: 1.75 },
      { speaker: 'A', startSec: 2.75, endSec: 5.25 },
    ]);
  });

  it('fills gaps before dropping short turns', () => {
    // Dropping first would lose the 0.5 s turn at 2.75 and leave 3.75-5.25.
    expect(activityToTurns(ACTIVE, 'A', GRID, 1.5, 1.0)).toEqual([{ speaker: 'A', startSec: 2.75, endSec: 5.25 }]);
  });

  it('gives no turns for silence', () => {
    expect(activityToTurns(new Uint8Array(4), 'A', GRID, 0, 0)).toEqual([]);
  });
});

describe('smoothTurns', () => {
  it('does not modify the turns it is given', () => {
    const turns = [
      { speaker: 'B', startSec: 0, endSec: 1 },
      { speaker: 'B', startSec: 1.2, endSec: 2 },
    ];
    expect(smoothTurns(turns, 0, 0.5)).toEqual([{ speaker: 'B', startSec: 0, endSec: 2 }]);
    expect(turns[0].endSec).toBe(1);
  });

  it('keeps the later end when a merged turn lies inside the previous one', () => {
    const turns = [
      { speaker: 'B', startSec: 0, endSec: 3 },
      { speaker: 'B', startSec: 1, endSec: 2 },
    ];
    expect(smoothTurns(turns, 0, 0)).toEqual([{ speaker: 'B', startSec: 0, endSec: 3 }]);
  });
});

describe('sortTurns and speakerLabel', () => {
  it('orders by start, then end, then speaker', () => {
    const sorted = sortTurns([
      { speaker: 'B', startSec: 1, endSec: 2 },
      { speaker: 'A', startSec: 1, endSec: 2 },
      { speaker: 'C', startSec: 1, endSec: 1.5 },
      { speaker: 'D', startSec: 0, endSec: 4 },
    ]);
    expect(sorted.map((t) => t.speaker)).toEqual(['D', 'C', 'A', 'B']);
  });

  it('pads the speaker index to two digits', () => {
    expect(speakerLabel(3)).toBe('SPEAKER_03');
    expect(speakerLabel(12)).toBe('SPEAKER_12');
  });
});
