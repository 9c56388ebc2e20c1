/** Index of the line being played: the last one started at or before `clock` and not yet ended (else -1). */
export function activeLineIndex(lines: readonly { start: number; end: number }[], clock: number): number {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid].start <= clock) lo = mid + 1;
    else hi = mid;
  }
  // A few lines back: overlapping cues (ASR output often overlaps) may still be running.
  for (let i = lo - 1; i >= 0 && i >= lo - 3; i--) if (clock < lines[i].end) return i;
  return -1;
}
