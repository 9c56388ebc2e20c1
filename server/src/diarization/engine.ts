import { decodeToArray, TARGET_SAMPLE_RATE, type AudioInfo } from '../audio';
import { ClipTooLongError, InvalidAudioError } from '../common/errors';
import { ProgressEvent } from '../common/progress';
import { Diarizer } from './pipeline';
import { DiarizationConfigInput } from './config';
import { DiarizationResult } from './result';
import { embeddingModelIdentity, type ModelIdentity } from '../models/model-identity';

export type { ModelIdentity };

export interface EngineOptions {
  threads?: number;
  embeddingModel?: string;
  strategy?: 'windows' | 'segmentation';
  log?: (line: string) => void;
}

/** Longest clip embedClip decodes unless told otherwise (10 min of float samples at TARGET_SAMPLE_RATE: 38 MB); the server passes MAX_CLIP_SEC. */
export const DEFAULT_MAX_CLIP_SEC = 600;

export interface EmbedClipOptions {
  signal?: AbortSignal;
  /** The clip's probe when the caller already has it (it checked the duration): not probed again. */
  info?: AudioInfo;
  maxClipSec?: number;
}

/**
 * The diarization engine as the platform uses it: models loaded once at start, shared by every
 * job; each embedding is tagged with the model that made it.
 */
export class Engine {
  private constructor(
    private readonly diarizer: Diarizer,
    readonly model: ModelIdentity,
  ) {}

  static async create(options: EngineOptions = {}): Promise<Engine> {
    const diarizer = await Diarizer.create(
      { threads: options.threads, embeddingModel: options.embeddingModel, ...(options.strategy ? { strategy: options.strategy } : {}) },
      { log: options.log },
    );
    const { hash } = await embeddingModelIdentity(diarizer.config.embeddingModel);
    return new Engine(diarizer, { name: diarizer.embedder.name, hash });
  }

  diarize(
    filePath: string,
    options: { fileId?: string; overrides?: DiarizationConfigInput; onProgress?: (event: ProgressEvent) => void; signal?: AbortSignal },
  ): Promise<DiarizationResult> {
    return this.diarizer.diarizeFile(filePath, options);
  }

  /** One voice's embedding from a short clip (enrollment, findSpeaker): mean of window embeddings. */
  async embedClip(filePath: string, options: EmbedClipOptions = {}): Promise<{ embedding: Float32Array; speechSec: number }> {
    const { signal, info, maxClipSec = DEFAULT_MAX_CLIP_SEC } = options;
    // A probed duration over the limit is refused before ffmpeg starts; one the container did not
    // state is cut off while decoding.
    const samples = await decodeToArray(filePath, {
      signal,
      ...(info ? { info } : {}),
      maxDurationSec: maxClipSec,
      tooLong: (seconds) => new ClipTooLongError(seconds, maxClipSec),
    });
    const seconds = samples.length / TARGET_SAMPLE_RATE;
    const embedding = await this.diarizer.embedder.embedUtterance(samples, signal);
    if (!embedding)
      throw new InvalidAudioError(`The clip has ${seconds.toFixed(2)} s of audio, too little to recognise a voice; give at least 2 s of one person speaking.`);
    return { embedding, speechSec: seconds };
  }

  get dim(): number {
    return this.diarizer.embedder.dim;
  }

  release(): Promise<void> {
    return this.diarizer.release();
  }
}
