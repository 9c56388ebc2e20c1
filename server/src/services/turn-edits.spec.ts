import { splitSpans, totalSec, unionOfSpans } from './turn-edits';

describe('turn edits', () => {
  it('joins overlapping and touching spans, keeps gaps', () => {
    const spans = [
      { startSec: 5, endSec: 6 },
      { startSec: 0, endSec: 2 },
      { startSec: 1, endSec: 3 },
      { startSec: 3, endSec: 4 },
      { startSec: 5.5, endSec: 5.7 },
    ];
    expect(unionOfSpans(spans)).toEqual([
      { startSec: 0, endSec: 4 },
      { startSec: 5, endSec: 6 },
    ]);
  });

  it('cuts spans crossing the range into inside and outside parts', () => {
    const spans = [
      { startSec: 0, endSec: 10 },
      { startSec: 12, endSec: 14 },
      { startSec: 20, endSec: 25 },
    ];
    const { inside, outside } = splitSpans(spans, 8, 22);
    expect(inside).toEqual([
      { startSec: 8, endSec: 10 },
      { startSec: 12, endSec: 14 },
      { startSec: 20, endSec: 22 },
    ]);
    expect(outside).toEqual([
      { startSec: 0, endSec: 8 },
      { startSec: 22, endSec: 25 },
    ]);
    expect(totalSec(inside) + totalSec(outside)).toBe(totalSec(spans));
  });

  it('a range inside one turn splits it in three', () => {
    const { inside, outside } = splitSpans([{ startSec: 0, endSec: 10 }], 4, 6);
    expect(inside).toEqual([{ startSec: 4, endSec: 6 }]);
    expect(outside).toEqual([
      { startSec: 0, endSec: 4 },
      { startSec: 6, endSec: 10 },
    ]);
  });
});
