// The web timeline's pure maths (no browser): lanes and hit-testing, the zoomable view, waveform
// peaks, paged turn loading. Expected values are worked out by hand in the comments.
import type { TurnPageFieldsFragment } from '../web/src/gql/graphql';
import { addCoverage, coverageRuns } from '../web/src/timeline/coverage';
import { buildLanes, lowerBound, turnAt } from '../web/src/timeline/lanes';
import { loadAllTurnPages } from '../web/src/timeline/turn-pages';
import { clampView, zoomView } from '../web/src/timeline/view';
import { peakRange, peaksResolution, type Peaks } from '../web/src/timeline/waveform';
import { formatClock, formatPrecise } from '../web/src/lib/format';
import { activeLineIndex } from '../web/src/transcript/active-line';

function lanesOf(turns: [string, number, number][], colorOf: (i: number) => string) {
  const speakers = ['a', 'b'].map((id, i) => ({
    id,
    label: `Speaker ${i + 1}`,
    engineLabel: `SPEAKER_0${i}`,
    talkTimeSeconds: 0,
    colorIndex: i,
    matchScore: null,
    person: id === 'b' ? { id: 'p1', name: 'Bob' } : null,
  }));
  return buildLanes(
    speakers,
    turns.map(([sp, start, end], i) => ({ id: `t${i}`, start, end, speaker: { id: sp } })),
    colorOf,
  );
}

describe('lanes', () => {
  const lanes = lanesOf(
    [
      ['a', 10, 12],
      ['b', 1, 4],
      ['a', 0, 8], // long turn, listed out of order
      ['a', 9, 9.5],
    ],
    (i) => `c${i}`,
  );

  test('one lane per speaker, turns sorted by start, person names before labels', () => {
    expect(lanes.map((l) => [l.label, l.color])).toEqual([
      ['Speaker 1', 'c0'],
      ['Bob', 'c1'],
    ]);
    expect(Array.from(lanes[0].starts)).toEqual([0, 9, 10]);
    expect(lanes[0].ids).toEqual(['t2', 't3', 't0']);
    expect(lanes[0].maxLength).toBe(8);
  });

  test('lowerBound finds the first start at or after t', () => {
    const starts = Float64Array.from([0, 9, 10]);
    expect([-1, 0, 0.5, 9, 9.1, 10, 11].map((t) => lowerBound(starts, t))).toEqual([0, 0, 1, 1, 2, 2, 3]);
  });

  test('turnAt finds the covering turn, looking back across a long earlier turn', () => {
    // t=7: only the 0–8 turn covers it (index 0), though 9 and 10 start later.
    expect(turnAt(lanes[0], 7)).toBe(0);
    expect(turnAt(lanes[0], 9.2)).toBe(1);
    expect(turnAt(lanes[0], 11.99)).toBe(2);
    expect(turnAt(lanes[0], 8.5)).toBe(-1);
    expect(turnAt(lanes[0], 12.5)).toBe(-1);
    expect(turnAt(lanes[1], 2)).toBe(0);
  });

  test('turnAt agrees with a linear scan on 5,000 turns', () => {
    const turns: [string, number, number][] = [];
    let t = 0;
    for (let i = 0; i < 5000; i++) {
      const len = 0.3 + ((i * 7919) % 97) / 10; // 0.3 .. 9.9 s
      turns.push(['a', t, t + len]);
      t += len * (i % 3 === 0 ? 0.5 : 1.2); // some overlap, some gaps
    }
    const [lane] = lanesOf(turns, () => '#000');
    for (let probe = 0; probe < t; probe += 1.37) {
      const found = turnAt(lane, probe);
      const covering = turns.filter(([, s, e]) => s <= probe && e >= probe);
      if (found < 0) expect(covering).toEqual([]);
      else expect(lane.starts[found] <= probe + 1e-9 && lane.ends[found] >= probe).toBe(true); // 1e-9: turnAt's tolerance
    }
  });
});

describe('view', () => {
  test('clampView keeps the window inside the recording and at least 2 s wide', () => {
    expect(clampView({ start: -5, span: 10 }, 60)).toEqual({ start: 0, span: 10 });
    expect(clampView({ start: 55, span: 10 }, 60)).toEqual({ start: 50, span: 10 });
    expect(clampView({ start: 3, span: 0.5 }, 60)).toEqual({ start: 3, span: 2 });
    expect(clampView({ start: 3, span: 500 }, 60)).toEqual({ start: 0, span: 60 });
    // A 1-second clip: the narrowest window is the clip itself.
    expect(clampView({ start: 0, span: 0.2 }, 1)).toEqual({ start: 0, span: 1 });
  });

  test('zoomView keeps the anchor time at the same place on screen', () => {
    // Anchor 30 s sits at 50% of [20, 40]; halving the span gives [25, 35].
    expect(zoomView({ start: 20, span: 20 }, 0.5, 30, 3600)).toEqual({ start: 25, span: 10 });
    // Anchor 20 s sits at 0%: the window grows to the right, [20, 60].
    expect(zoomView({ start: 20, span: 20 }, 2, 20, 3600)).toEqual({ start: 20, span: 40 });
  });
});

describe('waveform peaks', () => {
  // 4 peaks per second: [min, max] pairs.
  const peaks: Peaks = { peaksPerSecond: 4, data: Int8Array.from([-10, 20, -64, 32, 0, 0, -5, 64]), length: 4, maxAbs: 64 };

  test('peakRange takes min and max over the peaks of [t0, t1), scaled by the loudest peak', () => {
    expect(peakRange(peaks, 0, 0.5)).toEqual([-1, 0.5]); // peaks 0–1: min -64, max 32
    expect(peakRange(peaks, 0.5, 0.75)).toEqual([0, 0]); // peak 2
    expect(peakRange(peaks, 0.75, 2)).toEqual([-5 / 64, 1]); // peak 3 (the range runs past the end)
    // Narrower than one peak: still the peak under it.
    expect(peakRange(peaks, 0.26, 0.27)).toEqual([-1, 0.5]);
  });

  test('peaksResolution asks for about 40,000 peaks, between 1 and 100 per second', () => {
    expect(peaksResolution(30)).toBe(100);
    expect(peaksResolution(3600)).toBe(11); // 40000 / 3600 = 11.1
    expect(peaksResolution(4 * 3600)).toBe(3); // 2.78 → 3
    expect(peaksResolution(100_000)).toBe(1);
  });
});

describe('lane coverage', () => {
  test('addCoverage adds the covered fraction of each pixel column, clipped to the plot', () => {
    const cover = new Float32Array(5);
    addCoverage(cover, 0.5, 2.25); // half of column 0, all of 1, a quarter of 2
    addCoverage(cover, 2.5, 2.75); // another quarter of 2
    addCoverage(cover, -3, 0.25); // starts left of the plot: only [0, 0.25) counts
    addCoverage(cover, 4.5, 9); // runs past the right edge: only [4.5, 5)
    addCoverage(cover, 3.2, 3.2); // empty
    expect(Array.from(cover)).toEqual([0.75, 1, 0.5, 0, 0.5]);
  });

  test('coverageRuns merges equal opacities, with a floor for any speech', () => {
    // Ten 0.05-pixel turns in column 3: half covered, alpha 0.5; one 0.01-pixel turn in column 4: the 0.3 floor.
    const cover = new Float32Array(6);
    addCoverage(cover, 0, 3);
    for (let k = 0; k < 10; k++) addCoverage(cover, 3 + k * 0.1, 3 + k * 0.1 + 0.05);
    addCoverage(cover, 4.5, 4.51);
    const runs = coverageRuns(cover);
    expect(runs.map((r) => [r.x, r.w])).toEqual([
      [0, 3],
      [3, 1],
      [4, 1],
    ]);
    expect(runs[0].alpha).toBe(1);
    expect(runs[1].alpha).toBeCloseTo(0.5, 6);
    expect(runs[2].alpha).toBe(0.3);
  });
});

describe('paged turn loading', () => {
  // 2,500 turns in pages of 1,000: the first page comes with the meeting, two more by cursor.
  const all = Array.from({ length: 2500 }, (_, i) => ({ id: `t${i}`, start: i, end: i + 0.5, speaker: { id: 'a' } }));
  const pageAt = (offset: number): TurnPageFieldsFragment => ({
    nodes: all.slice(offset, offset + 1000),
    pageInfo: { endCursor: offset + 1000 < all.length ? `c${offset + 1000}` : `c${all.length}`, hasNextPage: offset + 1000 < all.length },
  });

  test('follows the cursors to the last page, reporting the count after each page', async () => {
    const asked: string[] = [];
    const seen: unknown[][] = [];
    const turns = await loadAllTurnPages(
      pageAt(0),
      async (after) => {
        asked.push(after);
        return pageAt(Number(after.slice(1)));
      },
      { onPage: (sofar) => seen.push(sofar) },
    );
    expect(asked).toEqual(['c1000', 'c2000']);
    // Snapshots, not one growing array (React would see no change).
    expect(seen.map((s) => s.length)).toEqual([2000, 2500]);
    expect(seen[1]).toBe(turns);
    expect(turns.map((t) => t.id)).toEqual(all.map((t) => t.id));
  });

  test('a single page needs no further request', async () => {
    const fetchPage = jest.fn();
    const one = { nodes: all.slice(0, 3), pageInfo: { endCursor: 'c3', hasNextPage: false } };
    expect(await loadAllTurnPages(one, fetchPage)).toHaveLength(3);
    expect(fetchPage).not.toHaveBeenCalled();
  });

  test('stops when aborted, and fails clearly on a page without a cursor', async () => {
    const ctrl = new AbortController();
    const fetchPage = jest.fn(async (after: string) => {
      ctrl.abort();
      return pageAt(Number(after.slice(1)));
    });
    await expect(loadAllTurnPages(pageAt(0), fetchPage, { signal: ctrl.signal })).rejects.toThrow(/abort/i);
    expect(fetchPage).toHaveBeenCalledTimes(1);
    const broken = { nodes: [], pageInfo: { endCursor: null, hasNextPage: true } };
    await expect(loadAllTurnPages(broken, fetchPage)).rejects.toThrow('sent no cursor');
  });
});

test('clock formats', () => {
  expect(formatClock(65)).toBe('1:05');
  expect(formatClock(3725.4)).toBe('1:02:05');
  expect(formatPrecise(12.34)).toBe('0:12.3');
});

describe('transcript panel', () => {
  // Lines [1, 3), [3, 5), [4, 8) (overlapping the one before), then a gap, [10, 12).
  const lines = [
    { start: 1, end: 3 },
    { start: 3, end: 5 },
    { start: 4, end: 8 },
    { start: 10, end: 12 },
  ];

  test('activeLineIndex picks the latest started line still running, none in gaps', () => {
    expect([0, 1, 2.9, 3, 4.5, 6, 9, 10, 12].map((t) => activeLineIndex(lines, t))).toEqual([-1, 0, 0, 1, 2, 2, -1, 3, -1]);
    expect(activeLineIndex([], 5)).toBe(-1);
  });
});
