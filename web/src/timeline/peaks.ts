import { ApiError, authHeaders } from '../lib/graphql';

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

export async function fetchPeaks(meetingId: string, resolution: number, signal?: AbortSignal): Promise<Peaks> {
  const res = await fetch(`/api/media/${encodeURIComponent(meetingId)}/peaks?format=json&resolution=${resolution}`, {
    headers: authHeaders(),
    signal,
  });
  const body = (await res.json().catch(() => null)) as
    | { sampleRate: number; samplesPerPeak: number; length: number; data: number[]; error?: undefined }
    | { error: { code: string; message: string } }
    | null;
  if (!res.ok || !body || 'error' in body && body.error) {
    const e = body && 'error' in body && body.error ? body.error : { code: 'HTTP_ERROR', message: `Peaks: HTTP ${res.status}` };
    throw new ApiError(e.message, e.code, res.status);
  }
  const ok = body as { sampleRate: number; samplesPerPeak: number; length: number; data: number[] };
  const data = Int8Array.from(ok.data);
  let maxAbs = 1;
  for (const v of data) maxAbs = Math.max(maxAbs, Math.abs(v));
  return { peaksPerSecond: ok.sampleRate / ok.samplesPerPeak, data, length: ok.length, maxAbs };
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
