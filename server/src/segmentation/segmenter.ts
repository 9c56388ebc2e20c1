import { ModelMismatchError } from '../common/errors';
import { ExecutionProvider, InferenceModel, loadModel } from '../inference/onnx-session';
import { readOnnxMetadata } from '../models/onnx-metadata';
import { ResolvedSegmentationModel } from '../models/resolve';
import type { SegmentationVariant } from '../models/segmentation-variants';

/**
 * pyannote segmentation-3.0 (powerset): 10 s of raw 16 kHz samples in, per-frame log-probabilities
 * over 7 classes out: no speech, one of 3 local speakers, or one of the 3 pairs.
 */
const POWERSET_3_SPEAKERS_MAX_2: readonly (readonly number[])[] = [[], [0], [1], [2], [0, 1], [0, 2], [1, 2]];

export interface SegmenterOptions {
  intraOpThreads?: number;
  executionProviders?: ExecutionProvider[];
  /** Run the model on its own worker thread (see onnx-session.ts). */
  inWorker?: boolean;
  log?: (line: string) => void;
  /** Which file this is (models/segmentation-variants.ts), for reports; default int8, the shipped one. */
  variant?: SegmentationVariant;
}

/**
 * Peak below which a chunk counts as digital silence: 2 LSB of 16-bit audio, so muted stretches, zero
 * padding and dither-free fades pass, while room noise (the quietest dev clip's floor is far above) does not.
 */
export const DIGITAL_SILENCE_PEAK = 2 / 32768;

/** True when every sample's magnitude is at most DIGITAL_SILENCE_PEAK. */
export function isDigitalSilence(samples: Float32Array, peak = DIGITAL_SILENCE_PEAK): boolean {
  for (let i = 0; i < samples.length; i++) if (samples[i] > peak || samples[i] < -peak) return false;
  return true;
}

/** How per-frame powerset probabilities become local-speaker activity (see `Segmenter.segment`). */
export interface PowersetDecoding {
  /**
   * A frame is speech when the non-speech class's probability is below this; its speakers are then the
   * most likely speech class. Undefined: the most likely of all 7 classes (pyannote's hard decoding).
   */
  maxNonSpeechProbability?: number;
  /** A one-speaker frame whose pair classes' summed probability reaches this takes the most likely pair. */
  minOverlapProbability?: number;
}

/** How the chunks are prepared before the model. */
export interface SegmentInputOptions {
  /** Scale each chunk to this RMS (at most ×MAX_CHUNK_GAIN) first; unset: as given (see scaleToRms). */
  chunkRms?: number;
}

/** The largest gain scaleToRms applies (+60 dB): near-silent chunks are not blown up to speech level. */
export const MAX_CHUNK_GAIN = 1000;

/**
 * In place: scales a chunk to RMS `targetRms` (gain at most MAX_CHUNK_GAIN). The model normalises its input
 * itself (SincNet's instance norm), but not quite: the norm's epsilon weighs on quiet chunks, and the shipped
 * INT8 export's quantized front end follows the input's level, so a chunk 10 dB quieter decodes differently
 * (a third of one quiet dev chunk's frames). Scaled first, any gain gives the model the same input.
 */
export function scaleToRms(chunk: Float32Array, targetRms: number): void {
  let energy = 0;
  for (let i = 0; i < chunk.length; i++) energy += chunk[i] * chunk[i];
  if (energy === 0) return;
  const gain = Math.min(MAX_CHUNK_GAIN, targetRms / Math.sqrt(energy / chunk.length));
  for (let i = 0; i < chunk.length; i++) chunk[i] *= gain;
}

export class Segmenter {
  /** Chunks answered as silence without the model (for benchmarks and tests). */
  silentChunks = 0;

  private constructor(
    private readonly model: InferenceModel,
    /** Samples per chunk (160000 = 10 s). */
    readonly windowSamples: number,
    /** Samples between successive output frames (270 = 16.875 ms). */
    readonly frameShiftSamples: number,
    /** Samples each output frame sees (991). */
    readonly receptiveFieldSamples: number,
    readonly numLocalSpeakers: number,
    /** Output frames per chunk (589 for 10 s). */
    readonly framesPerChunk: number,
    readonly variant: SegmentationVariant,
    /** The model decodes all-zero input as no speech, so digital silence may skip it. */
    readonly silenceIsNoSpeech: boolean,
  ) {}

  static async load(resolved: ResolvedSegmentationModel, options: SegmenterOptions = {}): Promise<Segmenter> {
    const metadata = await readOnnxMetadata(resolved.path);
    const need = ['window_size', 'receptive_field_shift', 'receptive_field_size', 'num_speakers', 'num_classes'];
    const missing = need.filter((k) => !(k in metadata));
    if (missing.length > 0) {
      throw new ModelMismatchError(
        `Segmentation model "${resolved.path}" lacks metadata ${missing.join(', ')}; expected sherpa-onnx's pyannote segmentation-3.0 export.`,
      );
    }
    if (metadata.num_speakers !== '3' || metadata.num_classes !== '7') {
      throw new ModelMismatchError(
        `Segmentation model "${resolved.path}" has ${metadata.num_speakers} speakers / ${metadata.num_classes} classes; expected the powerset model (3 speakers, 7 classes).`,
      );
    }
    const model = await loadModel(resolved.path, options);
    if (model.input.dims.length !== 3 || model.output.dims.length !== 3) {
      throw new ModelMismatchError(
        `Segmentation model "${resolved.path}" has input [${model.input.dims}] / output [${model.output.dims}]; expected [N, 1, T] / [N, frames, 7].`,
      );
    }
    const windowSamples = Number(metadata.window_size);
    const shift = Number(metadata.receptive_field_shift);
    const field = Number(metadata.receptive_field_size);
    const probe = await model.run(new Float32Array(windowSamples), [1, 1, windowSamples]);
    // Skipping silence must not change an answer: only when the model itself calls all-zero input no speech.
    const classes = POWERSET_3_SPEAKERS_MAX_2.length;
    let silenceIsNoSpeech = true;
    for (let f = 0; f < probe.dims[1] && silenceIsNoSpeech; f++) {
      const row = probe.data.subarray(f * classes, (f + 1) * classes);
      silenceIsNoSpeech = row.every((x) => x <= row[0]);
    }
    return new Segmenter(model, windowSamples, shift, field, 3, probe.dims[1], options.variant ?? 'int8', silenceIsNoSpeech);
  }

  /**
   * Segments a batch of chunks (each exactly windowSamples long, zero-padded at the end of a file).
   * Returns per chunk the local-speaker activity: Uint8Array [framesPerChunk, 3] row-major, 0/1,
   * from the most likely powerset class of each frame (pyannote's hard decoding), or as `decoding` says. A chunk of digital
   * silence (isDigitalSilence) is all zeros without running the model.
   */
  async segment(chunks: readonly Float32Array[], decoding: PowersetDecoding = {}, input: SegmentInputOptions = {}): Promise<Uint8Array[]> {
    const [out] = await this.segmentDecodings(chunks, [decoding], input);
    return out;
  }

  /**
   * As `segment`, one model run decoded several ways: per decoding, per chunk, the activity. The windows
   * strategy embeds from one decoding and labels frames from a more liberal one (turns.maxNonSpeechProbability).
   */
  async segmentDecodings(chunks: readonly Float32Array[], decodings: readonly PowersetDecoding[], input: SegmentInputOptions = {}): Promise<Uint8Array[][]> {
    // Digital silence (muted or padded stretches) is no speech: skip the model for those chunks. The rest
    // may move by a frame: dynamic INT8 takes one activation scale per batch, so batch mates matter a little.
    const out: Uint8Array[][] = decodings.map(() => chunks.map(() => new Uint8Array(this.framesPerChunk * 3)));
    const voiced = chunks.flatMap((c, i) => (this.silenceIsNoSpeech && isDigitalSilence(c.subarray(0, this.windowSamples)) ? [] : [i]));
    this.silentChunks += chunks.length - voiced.length;
    if (voiced.length === 0) return out;
    const n = voiced.length;
    const batch = new Float32Array(n * this.windowSamples); // [n, 1, windowSamples]
    voiced.forEach((c, i) => batch.set(chunks[c].subarray(0, this.windowSamples), i * this.windowSamples));
    if (input.chunkRms !== undefined) {
      for (let i = 0; i < n; i++) scaleToRms(batch.subarray(i * this.windowSamples, (i + 1) * this.windowSamples), input.chunkRms);
    }
    const { data } = await this.model.run(batch, [n, 1, this.windowSamples]);
    decodings.forEach((decoding, d) =>
      voiced.forEach((chunkIndex, c) => (out[d][chunkIndex] = decodePowerset(data, c * this.framesPerChunk, this.framesPerChunk, decoding))),
    );
    return out;
  }

  async release(): Promise<void> {
    await this.model.release();
  }
}

/**
 * Frames [firstFrame, firstFrame + numFrames) of the model's [frames, 7] output → local-speaker activity
 * [numFrames, 3], 0/1 row-major.
 */
export function decodePowerset(data: Float32Array, firstFrame: number, numFrames: number, decoding: PowersetDecoding = {}): Uint8Array {
  const classes = POWERSET_3_SPEAKERS_MAX_2.length;
  const activity = new Uint8Array(numFrames * 3);
  for (let f = 0; f < numFrames; f++) {
    const base = (firstFrame + f) * classes;
    let best = 0;
    for (let k = 1; k < classes; k++) if (data[base + k] > data[base + best]) best = k;
    if (best === 0 && decoding.maxNonSpeechProbability !== undefined) best = speechClassBelow(data, base, classes, decoding.maxNonSpeechProbability);
    if (decoding.minOverlapProbability !== undefined && POWERSET_3_SPEAKERS_MAX_2[best].length === 1) {
      best = pairClassAbove(data, base, classes, decoding.minOverlapProbability) ?? best;
    }
    for (const speaker of POWERSET_3_SPEAKERS_MAX_2[best]) activity[f * 3 + speaker] = 1;
  }
  return activity;
}

/**
 * The most likely speech class of a frame whose non-speech probability is below `maxNonSpeech`, else 0.
 * The model's outputs are log-probabilities; a softmax over them also covers an export that emits logits.
 */
function speechClassBelow(data: Float32Array, base: number, classes: number, maxNonSpeech: number): number {
  let max = -Infinity;
  for (let k = 0; k < classes; k++) max = Math.max(max, data[base + k]);
  let sum = 0;
  for (let k = 0; k < classes; k++) sum += Math.exp(data[base + k] - max);
  if (Math.exp(data[base] - max) / sum >= maxNonSpeech) return 0;
  let best = 1;
  for (let k = 2; k < classes; k++) if (data[base + k] > data[base + best]) best = k;
  return best;
}

/**
 * The most likely pair class of a frame whose pair classes together have at least probability `minPair`,
 * else undefined (softmax as in speechClassBelow).
 */
function pairClassAbove(data: Float32Array, base: number, classes: number, minPair: number): number | undefined {
  let max = -Infinity;
  for (let k = 0; k < classes; k++) max = Math.max(max, data[base + k]);
  let sum = 0;
  let pairs = 0;
  let best: number | undefined;
  for (let k = 0; k < classes; k++) {
    const p = Math.exp(data[base + k] - max);
    sum += p;
    if (POWERSET_3_SPEAKERS_MAX_2[k].length !== 2) continue;
    pairs += p;
    if (best === undefined || data[base + k] > data[base + best]) best = k;
  }
  return pairs / sum >= minPair ? best : undefined;
}
