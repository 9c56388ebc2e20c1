import { OnlineFbank } from '../features/fbank';

/** One segmentation chunk: `windowSamples` samples from `startSample`, zero-padded past the end of the file. */
export interface AudioChunk {
  index: number;
  startSample: number;
  samples: Float32Array;
  /** Samples of real audio in this chunk (< samples.length only for the last one). */
  validSamples: number;
}

export interface ChunkerOptions {
  windowSamples: number;
  stepSamples: number;
  /** Extra samples that must have arrived past a chunk's end before it is handed out (fbank frames there need them). */
  lookaheadSamples: number;
  /** Sees every decoded block once, in order (the fbank is computed from these). */
  onBlock?: (block: Float32Array) => void;
  /** Called once the stream has ended, before the last chunks are yielded. */
  onEnd?: (totalSamples: number) => void;
}

/**
 * Cuts a stream of decoded blocks into overlapping fixed-size chunks, holding only the samples that
 * a chunk still to come needs (at most one window plus a block): flat memory for any duration.
 */
export async function* chunkAudio(blocks: AsyncIterable<Float32Array>, options: ChunkerOptions): AsyncGenerator<AudioChunk> {
  const { windowSamples, stepSamples, lookaheadSamples } = options;
  let buffer = new Float32Array(windowSamples * 2);
  let bufferStart = 0; // global index of buffer[0]
  let bufferLength = 0;
  let nextStart = 0;
  let index = 0;

  const take = (start: number, validUpTo: number): AudioChunk => {
    const samples = new Float32Array(windowSamples);
    const valid = Math.max(0, Math.min(windowSamples, validUpTo - start));
    samples.set(buffer.subarray(start - bufferStart, start - bufferStart + valid));
    return { index: index++, startSample: start, samples, validSamples: valid };
  };

  for await (const block of blocks) {
    options.onBlock?.(block);
    // Drop samples no future chunk needs, then append.
    const drop = Math.min(nextStart - bufferStart, bufferLength);
    if (drop > 0) {
      buffer.copyWithin(0, drop, bufferLength);
      bufferStart += drop;
      bufferLength -= drop;
    }
    if (bufferLength + block.length > buffer.length) {
      const grown = new Float32Array(Math.max(buffer.length * 2, bufferLength + block.length));
      grown.set(buffer.subarray(0, bufferLength));
      buffer = grown;
    }
    buffer.set(block, bufferLength);
    bufferLength += block.length;
    const available = bufferStart + bufferLength;
    while (nextStart + windowSamples + lookaheadSamples <= available) {
      yield take(nextStart, available);
      nextStart += stepSamples;
    }
  }
  const total = bufferStart + bufferLength;
  options.onEnd?.(total);
  if (total === 0) return;
  // Full chunks the lookahead held back, then one zero-padded chunk covering the tail.
  while (nextStart + windowSamples <= total) {
    yield take(nextStart, total);
    nextStart += stepSamples;
  }
  if (nextStart < total && (index === 0 || nextStart - stepSamples + windowSamples < total)) yield take(nextStart, total);
}

/**
 * The streamed fbank of the whole recording, kept only from the oldest frame still needed:
 * frames are computed once and sliced for every window and chunk that uses them.
 */
export class FbankTimeline {
  private rows: Float32Array; // [capacity, bins] row-major
  private firstFrame = 0; // global index of row 0
  private count = 0;

  constructor(
    private readonly online: OnlineFbank,
    readonly bins: number,
  ) {
    this.rows = new Float32Array(bins * 4096);
  }

  /** Global index one past the last frame computed so far. */
  get endFrame(): number {
    return this.firstFrame + this.count;
  }

  get startFrame(): number {
    return this.firstFrame;
  }

  accept(samples: Float32Array): void {
    this.online.acceptWaveform(samples);
    this.pull();
  }

  finish(): void {
    this.online.inputFinished();
    this.pull();
  }

  /** Frames [start, end) as a view ([end - start, bins]); valid until the next accept/discard. */
  slice(start: number, end: number): Float32Array {
    const from = Math.max(start, this.firstFrame) - this.firstFrame;
    const to = Math.min(end, this.endFrame) - this.firstFrame;
    return this.rows.subarray(from * this.bins, Math.max(from, to) * this.bins);
  }

  /** Forget frames before `frame`. */
  discardBefore(frame: number): void {
    const drop = Math.min(Math.max(0, frame - this.firstFrame), this.count);
    if (drop === 0) return;
    this.rows.copyWithin(0, drop * this.bins, this.count * this.bins);
    this.firstFrame += drop;
    this.count -= drop;
  }

  private pull(): void {
    const frames = this.online.popFrames();
    const n = frames.length / this.bins;
    if (n === 0) return;
    if ((this.count + n) * this.bins > this.rows.length) {
      const grown = new Float32Array(Math.max(this.rows.length * 2, (this.count + n) * this.bins));
      grown.set(this.rows.subarray(0, this.count * this.bins));
      this.rows = grown;
    }
    this.rows.set(frames, this.count * this.bins);
    this.count += n;
  }
}
