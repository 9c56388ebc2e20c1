/** Interval arithmetic behind the manual speaker edits (merge, split); pure so it is easy to pin. */
import { mergeIntervals } from '../analytics/meeting-stats';

export interface Span {
  startSec: number;
  endSec: number;
}

/** One speaker's turns with overlapping or touching ones joined (a merged speaker has no self-overlap). */
export function unionOfSpans<T extends Span>(spans: readonly T[]): Span[] {
  return mergeIntervals(spans.map((s) => [s.startSec, s.endSec])).map(([startSec, endSec]) => ({ startSec, endSec }));
}

/**
 * Cuts spans at [fromSec, toSec): the parts inside go to `inside`, the rest stays in `outside`
 * (a turn crossing a boundary is split in two or three).
 */
export function splitSpans<T extends Span>(spans: readonly T[], fromSec: number, toSec: number): { inside: Span[]; outside: Span[] } {
  const inside: Span[] = [];
  const outside: Span[] = [];
  for (const s of spans) {
    const a = Math.max(s.startSec, fromSec);
    const b = Math.min(s.endSec, toSec);
    if (b <= a) {
      outside.push({ startSec: s.startSec, endSec: s.endSec });
      continue;
    }
    inside.push({ startSec: a, endSec: b });
    if (s.startSec < a) outside.push({ startSec: s.startSec, endSec: a });
    if (s.endSec > b) outside.push({ startSec: b, endSec: s.endSec });
  }
  return { inside, outside };
}

export function totalSec(spans: readonly Span[]): number {
  return spans.reduce((sum, s) => sum + (s.endSec - s.startSec), 0);
}
