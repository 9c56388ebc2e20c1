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

export class Segmenter {
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
    return new Segmenter(model, windowSamples, shift, field, 3, probe.dims[1], options.variant ?? 'int8');
  }

  /**
   * Segments a batch of chunks (each exactly windowSamples long, zero-padded at the end of a file).
   * Returns per chunk the local-speaker activity: Uint8Array [framesPerChunk, 3] row-major, 0/1,
   * from the most likely powerset class of each frame (pyannote's hard decoding).
   */
  async segment(chunks: readonly Float32Array[]): Promise<Uint8Array[]> {
    const n = chunks.length;
    const input = new Float32Array(n * this.windowSamples); // [n, 1, windowSamples]
    chunks.forEach((c, i) => input.set(c.subarray(0, this.windowSamples), i * this.windowSamples));
    const { data } = await this.model.run(input, [n, 1, this.windowSamples]);
    const frames = this.framesPerChunk;
    const classes = POWERSET_3_SPEAKERS_MAX_2.length;
    const out: Uint8Array[] = [];
    for (let c = 0; c < n; c++) {
      const activity = new Uint8Array(frames * 3);
      for (let f = 0; f < frames; f++) {
        const base = (c * frames + f) * classes;
        let best = 0;
        for (let k = 1; k < classes; k++) if (data[base + k] > data[base + best]) best = k;
        for (const speaker of POWERSET_3_SPEAKERS_MAX_2[best]) activity[f * 3 + speaker] = 1;
      }
      out.push(activity);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.model.release();
  }
}
