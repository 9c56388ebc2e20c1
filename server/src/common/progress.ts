/** One progress event type for every stage (pyannote's hook idea); fraction and ETA derive from it. */
export type Stage = 'decode' | 'segmentation' | 'fbank' | 'embedding' | 'clustering' | 'postprocess';

export interface ProgressEvent {
  stage: Stage;
  completed: number;
  total: number;
}

export type ProgressCallback = (event: ProgressEvent) => void;

/** The no-op default, so stages never check whether anybody listens. */
export const noProgress: ProgressCallback = () => undefined;
