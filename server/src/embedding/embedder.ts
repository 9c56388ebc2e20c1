import { l2Normalize, meanEmbedding } from '../vectors/math';
import { ModelMismatchError } from '../common/errors';
import { throwIfAborted } from '../common/errors';
import { computeFbank, FbankRecipe, getFbankRecipe } from '../features/fbank';
import { readOnnxMetadata } from '../models/onnx-metadata';
import { EmbeddingManifestEntry } from '../models/manifest';
import { resolveEmbeddingModel, ResolvedEmbeddingModel } from '../models/resolve';
import { DEFAULT_VARIANT, selectVariant, VariantChoice, VariantName } from '../models/variants';
import { acceleratedProvidersAvailable, ExecutionProvider, InferenceModel, loadModel } from '../inference/onnx-session';

/** A window of fbank frames handed to the model: [startFrame, startFrame + numFrames). */
export interface FrameWindow {
  startFrame: number;
  numFrames: number;
}

export interface EmbedderOptions {
  intraOpThreads?: number;
  executionProviders?: ExecutionProvider[];
  /** Run the model on its own worker thread (see onnx-session.ts). */
  inWorker?: boolean;
  /** Windows per ONNX Runtime call. */
  batchSize?: number;
  log?: (line: string) => void;
}

/** What the model's metadata and manifest entry say about preparing its input. */
export interface EmbeddingFrontEnd {
  sampleRate: number;
  /** Metadata `normalize_samples`: 1 = samples in [-1, 1], 0 = 16-bit integer range. */
  normalizeSamples: boolean;
  /** Metadata `feature_normalize_type`: subtract each window's mean over its frames, or not. */
  featureNormalize: 'global-mean' | 'none';
  recipe: FbankRecipe;
  windowFrames: number;
  hopFrames: number;
  minWindowFrames: number;
  /** Manifest `windowLevelLogPower`: each window's log fbank is shifted to this level before the model (setWindowLevel). */
  windowLevelLogPower?: number;
}

const REQUIRED_METADATA = ['sample_rate', 'normalize_samples', 'feature_normalize_type'] as const;

/** Speaker-embedding model with the CAM++ ONNX contract: log fbank [N, T, 80] in, embedding [N, D] out. */
export class SpeakerEmbedder {
  private constructor(
    private readonly model: InferenceModel,
    readonly name: string,
    readonly dim: number,
    readonly frontEnd: EmbeddingFrontEnd,
    private readonly batchSize: number,
    /** Which compressed variant of the model runs (fp32 = the model's own file). */
    readonly variant: VariantName = 'fp32',
  ) {}

  /**
   * Resolves a manifest name or .onnx path, picks the variant (`auto`: INT8 on CPU, FP16 on GPU, FP32 when
   * a variant is not built; logged with the reason) and loads it. If `auto` chose FP16 for a GPU but the
   * session ended up on CPU, it reloads with the CPU choice.
   */
  static async loadNamed(
    nameOrPath: string | undefined,
    variant: VariantChoice = DEFAULT_VARIANT,
    options: EmbedderOptions & { settings?: Partial<EmbeddingManifestEntry> } = {},
  ): Promise<SpeakerEmbedder> {
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const base = resolveEmbeddingModel(nameOrPath);
    const withSettings = (m: ResolvedEmbeddingModel): ResolvedEmbeddingModel => ({ ...m, settings: { ...m.settings, ...options.settings } });
    const accelerated = acceleratedProvidersAvailable(options.executionProviders);
    const chosen = selectVariant(base, variant, { accelerated });
    if (variant === 'auto') log(`embedding model ${base.name}: variant ${chosen.variant} (${chosen.reason})`);
    let embedder = await SpeakerEmbedder.load(withSettings(chosen.model), options);
    if (variant === 'auto' && chosen.variant === 'fp16' && embedder.provider === 'cpu') {
      const cpu = selectVariant(base, 'auto', { accelerated: false });
      log(`embedding model ${base.name}: the GPU provider did not load, so variant ${cpu.variant} instead (${cpu.reason})`);
      await embedder.release();
      embedder = await SpeakerEmbedder.load(withSettings(cpu.model), options);
    }
    return embedder;
  }

  get provider(): ExecutionProvider {
    return this.model.provider;
  }

  static async load(resolved: ResolvedEmbeddingModel, options: EmbedderOptions = {}): Promise<SpeakerEmbedder> {
    const metadata = await readOnnxMetadata(resolved.path);
    const missing = REQUIRED_METADATA.filter((key) => !(key in metadata));
    if (missing.length > 0) {
      throw new ModelMismatchError(
        `Embedding model "${resolved.path}" lacks metadata ${missing.map((k) => `"${k}"`).join(', ')}. ` +
          'Speaker models must carry sherpa-onnx/3D-Speaker metadata (sample_rate, normalize_samples, feature_normalize_type, output_dim); ' +
          're-export it with those metadata_props or use a model from `npm run models:fetch`.',
      );
    }
    const sampleRate = Number(metadata.sample_rate);
    if (sampleRate !== 16000) {
      throw new ModelMismatchError(
        `Embedding model "${resolved.path}" expects ${metadata.sample_rate} Hz audio; this engine feeds 16000 Hz. Use a 16 kHz model.`,
      );
    }
    const normalizeType = metadata.feature_normalize_type.trim();
    if (normalizeType !== '' && normalizeType !== 'global-mean') {
      throw new ModelMismatchError(`Embedding model "${resolved.path}" asks for feature_normalize_type="${normalizeType}"; supported: "global-mean" or empty.`);
    }
    const recipe = getFbankRecipe(resolved.settings.fbankRecipe);
    const model = await loadModel(resolved.path, options);
    const inDims = model.input.dims;
    const outDims = model.output.dims;
    if (inDims.length !== 3 || (typeof inDims[2] === 'number' && inDims[2] !== recipe.numMelBins)) {
      throw new ModelMismatchError(
        `Embedding model "${resolved.path}" takes input "${model.input.name}" of shape [${inDims.join(', ')}]; expected log fbank [N, T, ${recipe.numMelBins}].`,
      );
    }
    if (outDims.length !== 2) {
      throw new ModelMismatchError(
        `Embedding model "${resolved.path}" returns "${model.output.name}" of shape [${outDims.join(', ')}]; expected an embedding [N, D].`,
      );
    }
    const metaDim = metadata.output_dim ? Number(metadata.output_dim) : undefined;
    const shapeDim = typeof outDims[1] === 'number' ? outDims[1] : undefined;
    if (metaDim !== undefined && shapeDim !== undefined && metaDim !== shapeDim) {
      throw new ModelMismatchError(`Embedding model "${resolved.path}": metadata output_dim=${metaDim} but the output has ${shapeDim} dims.`);
    }
    const dim = metaDim ?? shapeDim;
    if (!dim) throw new ModelMismatchError(`Embedding model "${resolved.path}" states no embedding size (metadata output_dim or a fixed output dimension).`);

    const framesPerSec = 1000 / recipe.frameShiftMs;
    const frontEnd: EmbeddingFrontEnd = {
      sampleRate,
      normalizeSamples: metadata.normalize_samples !== '0',
      featureNormalize: normalizeType === 'global-mean' ? 'global-mean' : 'none',
      recipe,
      windowFrames: Math.round(resolved.settings.windowSec * framesPerSec),
      hopFrames: Math.round(resolved.settings.hopSec * framesPerSec),
      minWindowFrames: Math.round(resolved.settings.minWindowSec * framesPerSec),
      windowLevelLogPower: resolved.settings.windowLevelLogPower,
    };
    return new SpeakerEmbedder(model, resolved.name, dim, frontEnd, options.batchSize ?? 32, resolved.variant ?? 'fp32');
  }

  /** Samples scaled as the model's metadata asks (the fbank of 16-bit-range audio differs in log offset). */
  prepareSamples(samples: Float32Array): Float32Array {
    if (this.frontEnd.normalizeSamples) return samples;
    const scaled = new Float32Array(samples.length);
    for (let i = 0; i < samples.length; i++) scaled[i] = samples[i] * 32768;
    return scaled;
  }

  /** Fbank of a stretch of 16 kHz samples with this model's recipe: [frames, bins] row-major. */
  fbank(samples: Float32Array): Float32Array {
    return computeFbank(this.prepareSamples(samples), this.frontEnd.recipe);
  }

  /** Uniform windows over `numFrames` frames (a shorter stretch gets one window if long enough). */
  windowsFor(numFrames: number, startFrame = 0): FrameWindow[] {
    const { windowFrames, hopFrames, minWindowFrames } = this.frontEnd;
    if (numFrames < minWindowFrames) return [];
    if (numFrames <= windowFrames) return [{ startFrame, numFrames }];
    const windows: FrameWindow[] = [];
    let start = 0;
    for (; start + windowFrames <= numFrames; start += hopFrames) windows.push({ startFrame: startFrame + start, numFrames: windowFrames });
    const lastEnd = start - hopFrames + windowFrames;
    // Cover the tail with one window aligned to the end when more than half a hop is left out.
    if (numFrames - lastEnd > hopFrames / 2) windows.push({ startFrame: startFrame + numFrames - windowFrames, numFrames: windowFrames });
    return windows;
  }

  /**
   * Embeds windows of a fbank matrix `fbank` ([frames, bins] row-major), batching windows of equal
   * length. Returns [windows.length, dim] row-major, each row L2-normalised.
   */
  async embedWindows(fbank: Float32Array, windows: readonly FrameWindow[], signal?: AbortSignal): Promise<Float32Array> {
    const bins = this.frontEnd.recipe.numMelBins;
    const out = new Float32Array(windows.length * this.dim); // [numWindows, dim]
    const byLength = new Map<number, number[]>();
    windows.forEach((w, i) => {
      const group = byLength.get(w.numFrames);
      if (group) group.push(i);
      else byLength.set(w.numFrames, [i]);
    });
    for (const [numFrames, indices] of byLength) {
      for (let b = 0; b < indices.length; b += this.batchSize) {
        throwIfAborted(signal, 'embedding');
        const batch = indices.slice(b, b + this.batchSize);
        const input = new Float32Array(batch.length * numFrames * bins); // [batch, numFrames, bins]
        batch.forEach((wi, k) => {
          const w = windows[wi];
          const src = fbank.subarray(w.startFrame * bins, (w.startFrame + numFrames) * bins);
          const dst = input.subarray(k * numFrames * bins, (k + 1) * numFrames * bins);
          dst.set(src);
          if (this.frontEnd.windowLevelLogPower !== undefined) setWindowLevel(dst, numFrames, bins, this.frontEnd.windowLevelLogPower);
          if (this.frontEnd.featureNormalize === 'global-mean') subtractFrameMean(dst, numFrames, bins);
        });
        const { data } = await this.model.run(input, [batch.length, numFrames, bins]);
        batch.forEach((wi, k) => {
          const row = out.subarray(wi * this.dim, (wi + 1) * this.dim);
          row.set(data.subarray(k * this.dim, (k + 1) * this.dim));
          l2Normalize(row);
        });
      }
    }
    return out;
  }

  /** Utterance embedding: the L2-normalised mean of its window embeddings (undefined if too short). */
  async embedUtterance(samples: Float32Array, signal?: AbortSignal): Promise<Float32Array | undefined> {
    const fbank = this.fbank(samples);
    const numFrames = fbank.length / this.frontEnd.recipe.numMelBins;
    const windows = this.windowsFor(numFrames);
    if (windows.length === 0) return undefined;
    return meanEmbedding(await this.embedWindows(fbank, windows, signal), this.dim);
  }

  async release(): Promise<void> {
    await this.model.release();
  }
}

/** In place: subtract the mean over frames from every bin ([frames, bins] row-major). */
export function subtractFrameMean(feats: Float32Array, numFrames: number, bins: number): void {
  const mean = new Float64Array(bins);
  for (let t = 0; t < numFrames; t++) for (let j = 0; j < bins; j++) mean[j] += feats[t * bins + j];
  for (let j = 0; j < bins; j++) mean[j] /= numFrames;
  for (let t = 0; t < numFrames; t++) for (let j = 0; j < bins; j++) feats[t * bins + j] -= mean[j];
}

/**
 * In place: adds one constant to a window's log fbank ([frames, bins] row-major) so that the log of its mean
 * frame energy (Σ over bins of exp(log fbank), averaged over frames) equals `logPower`. A gain on the audio
 * adds a constant to every log fbank value, so the result no longer depends on the recording's level (the
 * floor of the log, FLT_EPSILON, aside). For a model that subtracts the mean over frames (CAM++) it changes nothing.
 */
export function setWindowLevel(feats: Float32Array, numFrames: number, bins: number, logPower: number): void {
  let energy = 0;
  for (let i = 0; i < numFrames * bins; i++) energy += Math.exp(feats[i]);
  if (!(energy > 0)) return;
  const shift = logPower - Math.log(energy / numFrames);
  for (let i = 0; i < numFrames * bins; i++) feats[i] += shift;
}
