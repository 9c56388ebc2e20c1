import { ApiError, authHeaders } from '../lib/graphql';
import type { Peaks } from './waveform';

export { peakRange, peaksResolution, type Peaks } from './waveform';

export async function fetchPeaks(meetingId: string, resolution: number, signal?: AbortSignal): Promise<Peaks> {
  const res = await fetch(`/api/media/${encodeURIComponent(meetingId)}/peaks?format=json&resolution=${resolution}`, {
    headers: authHeaders(),
    signal,
  });
  const body = (await res.json().catch(() => null)) as
    { sampleRate: number; samplesPerPeak: number; length: number; data: number[]; error?: undefined } | { error: { code: string; message: string } } | null;
  if (!res.ok || !body || ('error' in body && body.error)) {
    const e = body && 'error' in body && body.error ? body.error : { code: 'HTTP_ERROR', message: `Peaks: HTTP ${res.status}` };
    throw new ApiError(e.message, e.code, res.status);
  }
  const ok = body as { sampleRate: number; samplesPerPeak: number; length: number; data: number[] };
  const data = Int8Array.from(ok.data);
  let maxAbs = 1;
  for (const v of data) maxAbs = Math.max(maxAbs, Math.abs(v));
  return { peaksPerSecond: ok.sampleRate / ok.samplesPerPeak, data, length: ok.length, maxAbs };
}
