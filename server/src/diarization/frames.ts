import { TARGET_SAMPLE_RATE } from '../audio/sample-rate';
import { FbankRecipe } from '../features/fbank';
import { Segmenter } from '../segmentation/segmenter';

/**
 * Maps between the two frame grids of the pipeline: segmentation frames (270-sample shift, 991-sample
 * receptive field, global index g = sample offset / shift) and fbank frames (10 ms shift).
 */
export class FrameMapper {
  readonly segShift: number;
  readonly segField: number;
  readonly fbankShift: number;
  readonly fbankCenterOffset: number;

  constructor(segmenter: Pick<Segmenter, 'frameShiftSamples' | 'receptiveFieldSamples'>, recipe: FbankRecipe) {
    this.segShift = segmenter.frameShiftSamples;
    this.segField = segmenter.receptiveFieldSamples;
    this.fbankShift = Math.round((recipe.sampleRate * recipe.frameShiftMs) / 1000);
    const fbankLength = Math.round((recipe.sampleRate * recipe.frameLengthMs) / 1000);
    // snip_edges=false centres frame f on f*shift + shift/2; snip_edges=true starts it at f*shift.
    this.fbankCenterOffset = recipe.snipEdges ? fbankLength / 2 : this.fbankShift / 2;
  }

  /** Centre (in samples) of the stretch a global segmentation frame stands for. */
  segFrameCenter(g: number): number {
    return g * this.segShift + this.segField / 2;
  }

  /** The global segmentation frame whose central stretch contains sample `p`. */
  segFrameAt(p: number): number {
    return Math.floor((p - (this.segField - this.segShift) / 2) / this.segShift);
  }

  fbankFrameCenter(f: number): number {
    return f * this.fbankShift + this.fbankCenterOffset;
  }

  /** Fbank frames whose centres fall in [startSample, endSample): [first, end). */
  fbankFramesIn(startSample: number, endSample: number): [number, number] {
    const first = Math.max(0, Math.ceil((startSample - this.fbankCenterOffset) / this.fbankShift));
    const end = Math.max(first, Math.ceil((endSample - this.fbankCenterOffset) / this.fbankShift));
    return [first, end];
  }

  /** Seconds of a segmentation frame (its central stretch starts at offsetSec + g * stepSec). */
  get segGrid(): { stepSec: number; offsetSec: number } {
    return { stepSec: this.segShift / TARGET_SAMPLE_RATE, offsetSec: (this.segField - this.segShift) / 2 / TARGET_SAMPLE_RATE };
  }
}

/** A growable typed array of bytes indexed by global frame. */
export class FrameBytes {
  private data = new Uint8Array(1 << 16);
  length = 0;

  ensure(n: number): void {
    if (n > this.data.length) {
      const grown = new Uint8Array(Math.max(n, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    if (n > this.length) this.length = n;
  }

  get(i: number): number {
    return i < this.length ? this.data[i] : 0;
  }

  add(i: number, v: number): void {
    this.ensure(i + 1);
    this.data[i] = Math.min(255, this.data[i] + v);
  }

  view(): Uint8Array {
    return this.data.subarray(0, this.length);
  }
}

/**
 * Averages the segmentation of overlapping chunks per global frame: how many chunks cover the
 * frame, and the summed number of active local speakers (pyannote's speaker-count estimate).
 */
export class SpeakerCountAggregator {
  readonly coverage = new FrameBytes();
  readonly activeSum = new FrameBytes();

  constructor(private readonly rounding: 'half-even' | 'half-up' = 'half-even') {}

  add(firstFrame: number, activity: Uint8Array, numFrames: number, numLocalSpeakers: number): void {
    for (let j = 0; j < numFrames; j++) {
      let active = 0;
      for (let k = 0; k < numLocalSpeakers; k++) active += activity[j * numLocalSpeakers + k];
      this.coverage.add(firstFrame + j, 1);
      if (active > 0) this.activeSum.add(firstFrame + j, active);
    }
  }

  /** Estimated number of simultaneous speakers at global frame g (0, 1 or 2). */
  countAt(g: number): number {
    const c = this.coverage.get(g);
    if (c === 0) return 0;
    const mean = this.activeSum.get(g) / c;
    return Math.min(2, this.rounding === 'half-up' ? Math.round(mean) : roundHalfToEven(mean));
  }
}

/** numpy's rint (pyannote rounds the averaged count this way): a 1-of-2 chunk vote is not speech. */
function roundHalfToEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
