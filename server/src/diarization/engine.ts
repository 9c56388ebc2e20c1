import { decodeToArray, TARGET_SAMPLE_RATE } from '../audio';
import { InvalidAudioError } from '../common/errors';
import { ProgressEvent } from '../common/progress';
import { Diarizer } from './pipeline';
import { DiarizationConfigInput } from './config';
import { DiarizationResult } from './result';
import { resolveEmbeddingModel } from '../models/resolve';
import { sha256File } from '../common/sha256';

/** Identity of the speaker-embedding model: every stored embedding records it. */
export interface ModelIdentity {
  name: string;
  /** sha256 of the model file. */
  hash: string;
}

export interface EngineOptions {
  threads?: number;
  embeddingModel?: string;
  strategy?: 'windows' | 'segmentation';
  log?: (line: string) => void;
}

/** Longest enrollment clip we decode into memory at once (10 min of float samples at TARGET_SAMPLE_RATE: 38 MB). */
const MAX_CLIP_SEC = 600;

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
    // The base model's file identifies the voice space: its compressed variants (int8, fp16, pruned)
    // are copies of the same weights whose embeddings agree with it (models/report), so stored
    // embeddings stay comparable when only the variant changes; another model is another space.
    const hash = await sha256File(resolveEmbeddingModel(diarizer.config.embeddingModel).path);
    return new Engine(diarizer, { name: diarizer.embedder.name, hash });
  }

  diarize(
    filePath: string,
    options: { fileId?: string; overrides?: DiarizationConfigInput; onProgress?: (event: ProgressEvent) => void; signal?: AbortSignal },
  ): Promise<DiarizationResult> {
    return this.diarizer.diarizeFile(filePath, options);
  }

  /** One voice's embedding from a short clip (enrollment, findSpeaker): mean of window embeddings. */
  async embedClip(filePath: string, signal?: AbortSignal): Promise<{ embedding: Float32Array; speechSec: number }> {
    const samples = await decodeToArray(filePath, { signal });
    const seconds = samples.length / TARGET_SAMPLE_RATE;
    if (seconds > MAX_CLIP_SEC)
      throw new InvalidAudioError(
        `The clip is ${(seconds / 60).toFixed(1)} min long; enrollment and voice search take clips of up to ${MAX_CLIP_SEC / 60} min of one voice. Cut it, or upload it as a meeting and enroll from its speaker.`,
      );
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
