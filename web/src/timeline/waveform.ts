// Pure waveform maths (no DOM), shared by the canvas and the tests.

/** Waveform peaks as served by /media/:id/peaks?format=json: int8 [min, max] pairs. */
export interface Peaks {
  /** Peaks per second of audio. */
  peaksPerSecond: number;
  /** [length * 2]: min, max, min, max, … in -128..127 */
  data: Int8Array;
  length: number;
  /** Largest |value| in data: drawing divides by it, so quiet recordings still fill the row. */
  maxAbs: number;
}

/** About 40k peaks whatever the length: detailed for short clips, a few MB of JSON at most for long ones. */
export function peaksResolution(durationSeconds: number): number {
  if (!(durationSeconds > 0)) return 100;
  return Math.max(1, Math.min(100, Math.round(40_000 / durationSeconds)));
}

/** Min and max of the peaks covering [t0, t1), scaled so the loudest peak of the recording is ±1. */
export function peakRange(peaks: Peaks, t0: number, t1: number): [number, number] {
  const pps = peaks.peaksPerSecond;
  let i0 = Math.floor(t0 * pps);
  let i1 = Math.ceil(t1 * pps);
  if (i1 <= i0) i1 = i0 + 1;
  i0 = Math.max(0, i0);
  i1 = Math.min(peaks.length, i1);
  let lo = 0;
  let hi = 0;
  for (let i = i0; i < i1; i++) {
    const mn = peaks.data[2 * i];
    const mx = peaks.data[2 * i + 1];
    if (mn < lo) lo = mn;
    if (mx > hi) hi = mx;
  }
  return [lo / peaks.maxAbs, hi / peaks.maxAbs];
}
