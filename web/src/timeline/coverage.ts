/**
 * Lanes drawn as per-pixel speech coverage: zoomed out, a lane holds many turns per pixel column,
 * and drawing each as a 1-pixel rectangle paints a talkative speaker as one solid bar. Summing the
 * covered fraction of each column and drawing it as opacity shows how much of that stretch the
 * speaker talks; zoomed in, whole columns are opaque and partial edge columns anti-alias the turn.
 */

/** Faintest opacity of a column with any speech, so a short turn far out of zoom stays visible. */
export const MIN_ALPHA = 0.3;

/** Adds the pixel span [a, b) (fractional, relative to the plot's left edge) to `cover`. */
export function addCoverage(cover: Float32Array, a: number, b: number): void {
  const lo = Math.max(0, a);
  const hi = Math.min(cover.length, b);
  if (!(hi > lo)) return;
  const i0 = Math.floor(lo);
  const i1 = Math.floor(hi);
  if (i0 === i1) {
    cover[i0] += hi - lo;
    return;
  }
  cover[i0] += i0 + 1 - lo;
  for (let i = i0 + 1; i < i1; i++) cover[i] += 1;
  if (i1 < cover.length) cover[i1] += hi - i1;
}

export interface CoverageRun {
  x: number;
  w: number;
  alpha: number;
}

/** Neighbouring columns of equal opacity (in steps of 0.05) as one rectangle each. */
export function coverageRuns(cover: Float32Array): CoverageRun[] {
  const runs: CoverageRun[] = [];
  for (let x = 0; x < cover.length; x++) {
    const c = cover[x];
    if (!(c > 1e-6)) continue;
    const alpha = Math.max(MIN_ALPHA, Math.min(1, Math.round(c * 20) / 20));
    const last = runs[runs.length - 1];
    if (last && last.x + last.w === x && last.alpha === alpha) last.w++;
    else runs.push({ x, w: 1, alpha });
  }
  return runs;
}
