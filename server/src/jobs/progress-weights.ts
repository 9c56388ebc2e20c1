import { ProgressEvent, Stage } from '../common/progress';

/**
 * The engine reports per-stage progress; jobs show one fraction. The streamed stages (decode,
 * segmentation, fbank, embedding) advance together, so the front one stands for them all.
 * Weights are rough shares of wall time on a 1-hour meeting (bench:pipeline).
 */
const STAGE_SPAN: Record<Stage, [number, number]> = {
  decode: [0.1, 0.85],
  segmentation: [0.1, 0.85],
  fbank: [0.1, 0.85],
  embedding: [0.1, 0.85],
  clustering: [0.85, 0.95],
  postprocess: [0.95, 0.98],
};

/** Ingest (playable copy, peaks) takes the first 10 %, storing results the last 2 %. */
export const INGEST_SPAN: [number, number] = [0, 0.1];
export const STORE_SPAN: [number, number] = [0.98, 1];

/** Maps an engine event to an overall fraction that never goes backwards. */
export function createProgressMapper(report: (stage: string, fraction: number) => void): (event: ProgressEvent) => void {
  let best = 0;
  return (event) => {
    const [from, to] = STAGE_SPAN[event.stage];
    const within = event.total > 0 ? Math.min(1, event.completed / event.total) : 0;
    best = Math.max(best, from + (to - from) * within);
    report(event.stage, best);
  };
}
