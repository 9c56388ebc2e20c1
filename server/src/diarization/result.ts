import { Stage } from '../common/progress';
import { SpeakerTurn } from './types';

export interface DiarizedSpeaker {
  label: string;
  /** Seconds of speech attributed to this speaker (overlap counted for each speaker). */
  speechSec: number;
  /** L2-normalised mean embedding of the speaker's speech: identification runs on it without recomputing. */
  centroid: number[];
}

export interface DiarizationResult {
  fileId: string;
  durationSec: number;
  numSpeakers: number;
  /** Sorted by start; turns of different speakers may overlap (overlapped speech). */
  turns: SpeakerTurn[];
  speakers: DiarizedSpeaker[];
  strategy: 'segmentation' | 'windows';
  channels: 'mix' | 'separate';
  embeddingModel: string;
  embeddingDim: number;
  /** Wall-clock seconds per stage (stages overlap in a streamed run: they are measured separately). */
  timingsSec: Record<Stage, number>;
}
