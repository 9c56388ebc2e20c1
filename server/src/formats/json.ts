import { DiarizationResult } from '../diarization/result';

/** The result as JSON: turns and per-speaker centroids, ready for identification or the API. */
export function writeDiarizationJson(result: DiarizationResult): string {
  return `${JSON.stringify(result, (_key, value) => (typeof value === 'number' && !Number.isInteger(value) ? Math.round(value * 1e6) / 1e6 : value), 2)}\n`;
}
