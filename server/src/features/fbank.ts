/**
 * Kaldi-compatible log mel filter bank ("fbank"), the input of the speaker-embedding models.
 *
 * Hand-written because no npm package computes Kaldi's fbank (povey window, pre-emphasis, DC removal,
 * Kaldi's mel triangles in the mel domain, snip_edges framing with edge reflection) bit-compatibly; the
 * embedding models were trained on exactly these features, so "close" is not good enough. It follows
 * kaldi-native-fbank (kaldi/src/feat feature-window.cc, mel-computations.cc, feature-fbank.cc) step by
 * step and is pinned to it by fbank.spec.ts (fixture from test/fixtures/fbank/make_fbank_fixture.py).
 *
 * Agreement on dev speech: max abs difference 3.1e-4 in log energy (mean ~5e-6), exact frame counts.
 *
 * Speed: everything that does not depend on the samples (window, sparse mel bank, the fft.js plan,
 * scratch buffers) is built once per recipe and a frame allocates nothing; the 512-point fft.js
 * realTransform is about half of the time per frame.
 */
import FFT from 'fft.js';
import { InvalidArgumentError } from '../common/errors';
import { FBANK_RECIPES, getFbankRecipe, type FbankRecipe } from './fbank-recipes';

export { FBANK_RECIPES, getFbankRecipe, type FbankRecipe };

/** std::numeric_limits<float>::epsilon(): the floor kaldi-native-fbank applies before the log. */
const FLT_EPSILON = 1.1920928955078125e-7;

/** Frame geometry in samples, as Kaldi's FrameExtractionOptions derives it. */
interface FrameGeometry {
  windowSize: number;
  windowShift: number;
  snipEdges: boolean;
}

function geometryOf(recipe: FbankRecipe): FrameGeometry {
  // Kaldi truncates samp_freq * 0.001 * ms; the epsilon keeps e.g. 16000 * 25 / 1000 from landing on 399.999….
  const windowSize = Math.floor((recipe.sampleRate * recipe.frameLengthMs) / 1000 + 1e-6);
  const windowShift = Math.floor((recipe.sampleRate * recipe.frameShiftMs) / 1000 + 1e-6);
  if (!(windowSize >= 2) || !(windowShift >= 1)) {
    throw new InvalidArgumentError(
      `Fbank recipe "${recipe.name}": frameLengthMs ${recipe.frameLengthMs} and frameShiftMs ${recipe.frameShiftMs} at ${recipe.sampleRate} Hz give a window of ${windowSize} and a shift of ${windowShift} samples; both must be at least 2 and 1.`,
    );
  }
  return { windowSize, windowShift, snipEdges: recipe.snipEdges };
}

/** Kaldi FirstSampleOfFrame. */
function firstSample(frameIndex: number, g: FrameGeometry): number {
  if (g.snipEdges) return frameIndex * g.windowShift;
  return frameIndex * g.windowShift + Math.floor(g.windowShift / 2) - Math.floor(g.windowSize / 2);
}

/** Kaldi NumFrames: flush = the signal has ended (snip_edges=false then also emits frames that reach past the end). */
function countFrames(numSamples: number, g: FrameGeometry, flush: boolean): number {
  if (g.snipEdges) {
    return numSamples < g.windowSize ? 0 : 1 + Math.floor((numSamples - g.windowSize) / g.windowShift);
  }
  let numFrames = Math.floor((numSamples + Math.floor(g.windowShift / 2)) / g.windowShift);
  if (flush) return numFrames;
  let endOfLast = firstSample(numFrames - 1, g) + g.windowSize;
  while (numFrames > 0 && endOfLast > numSamples) {
    numFrames--;
    endOfLast -= g.windowShift;
  }
  return numFrames;
}

function checkSampleCount(numSamples: number): void {
  if (!Number.isSafeInteger(numSamples) || numSamples < 0) {
    throw new InvalidArgumentError(`numSamples must be a non-negative integer, received ${numSamples}.`);
  }
}

/** Number of frames for a complete signal of numSamples samples (Kaldi NumFrames with flush). */
export function numFbankFrames(numSamples: number, recipe: FbankRecipe): number {
  checkSampleCount(numSamples);
  return countFrames(numSamples, geometryOf(recipe), true);
}

/** First sample of the frame's window; negative for the first frames when snipEdges is false (reflected). */
export function frameStartSample(frameIndex: number, recipe: FbankRecipe): number {
  if (!Number.isSafeInteger(frameIndex) || frameIndex < 0) {
    throw new InvalidArgumentError(`frameIndex must be a non-negative integer, received ${frameIndex}.`);
  }
  return firstSample(frameIndex, geometryOf(recipe));
}

/** Kaldi's mel scale (MelScale in mel-computations.h), in float like kaldi-native-fbank. */
function melScale(freqHz: number): number {
  return Math.fround(1127 * Math.fround(Math.log(Math.fround(1 + Math.fround(freqHz / 700)))));
}

function windowFunction(recipe: FbankRecipe, size: number): Float64Array {
  const w = new Float64Array(size);
  const a = (2 * Math.PI) / (size - 1);
  for (let i = 0; i < size; i++) {
    let v: number;
    switch (recipe.window) {
      case 'povey':
        v = Math.pow(0.5 - 0.5 * Math.cos(a * i), 0.85);
        break;
      case 'hamming':
        v = 0.54 - 0.46 * Math.cos(a * i);
        break;
      case 'hanning':
        v = 0.5 - 0.5 * Math.cos(a * i);
        break;
      case 'rectangular':
        v = 1;
        break;
      default:
        throw new InvalidArgumentError(`Fbank recipe "${recipe.name}": unknown window "${String(recipe.window)}"; use povey, hamming, hanning or rectangular.`);
    }
    w[i] = Math.fround(v); // kaldi-native-fbank stores the window as float
  }
  return w;
}

/** Sparse mel bank: bin b sums power[start[b] + k] * weights[(sum of earlier lengths) + k] for k < length[b]. */
interface SparseMelBank {
  start: Int32Array;
  length: Int32Array;
  weights: Float64Array;
}

/** Kaldi MelBanks (non-HTK, no VTLN): triangles equally spaced in mel between low and high, over FFT bins 0..N/2-1. */
function melBank(recipe: FbankRecipe, paddedSize: number): SparseMelBank {
  const numBins = recipe.numMelBins;
  if (!Number.isInteger(numBins) || numBins < 3) {
    throw new InvalidArgumentError(`Fbank recipe "${recipe.name}": numMelBins must be an integer >= 3, received ${numBins}.`);
  }
  const nyquist = 0.5 * recipe.sampleRate;
  const lowFreq = recipe.lowFreqHz;
  const highFreq = recipe.highFreqHz > 0 ? recipe.highFreqHz : nyquist + recipe.highFreqHz;
  if (!(lowFreq >= 0 && lowFreq < nyquist && highFreq > 0 && highFreq <= nyquist && highFreq > lowFreq)) {
    throw new InvalidArgumentError(
      `Fbank recipe "${recipe.name}": lowFreqHz ${lowFreq} and highFreqHz ${recipe.highFreqHz} (= ${highFreq} Hz) must satisfy 0 <= low < high <= nyquist (${nyquist} Hz).`,
    );
  }
  const numFftBins = paddedSize / 2;
  const fftBinWidth = Math.fround(recipe.sampleRate / paddedSize);
  const melLow = melScale(lowFreq);
  const melHigh = melScale(highFreq);
  const melDelta = Math.fround((melHigh - melLow) / (numBins + 1));
  const binMel = new Float64Array(numFftBins);
  for (let i = 0; i < numFftBins; i++) binMel[i] = melScale(Math.fround(fftBinWidth * i));

  const start = new Int32Array(numBins);
  const length = new Int32Array(numBins);
  const all: number[] = [];
  for (let b = 0; b < numBins; b++) {
    const left = Math.fround(melLow + Math.fround(b * melDelta));
    const center = Math.fround(melLow + Math.fround((b + 1) * melDelta));
    const right = Math.fround(melLow + Math.fround((b + 2) * melDelta));
    let first = -1;
    let last = -1;
    for (let i = 0; i < numFftBins; i++) {
      if (binMel[i] > left && binMel[i] < right) {
        if (first === -1) first = i;
        last = i;
      }
    }
    if (first === -1) {
      throw new InvalidArgumentError(
        `Fbank recipe "${recipe.name}": mel bin ${b} covers no FFT bin; numMelBins ${numBins} is too large for a ${paddedSize}-point FFT between ${lowFreq} and ${highFreq} Hz.`,
      );
    }
    start[b] = first;
    length[b] = last - first + 1;
    for (let i = first; i <= last; i++) {
      const mel = binMel[i];
      const w = mel <= center ? (mel - left) / (center - left) : (right - mel) / (right - center);
      all.push(Math.fround(w));
    }
  }
  return { start, length, weights: Float64Array.from(all) };
}

/** Everything per recipe that does not depend on the samples, plus scratch buffers for one frame. */
class FbankKernel {
  readonly geometry: FrameGeometry;
  readonly numMelBins: number;
  private readonly windowSize: number;
  private readonly preemph: number;
  private readonly removeDc: boolean;
  private readonly window: Float64Array; // [windowSize]
  private readonly melStart: Int32Array; // [numMelBins] first FFT bin of each triangle
  private readonly melLength: Int32Array; // [numMelBins] FFT bins in each triangle
  private readonly melWeights: Float64Array; // the triangles' weights, bin after bin
  private readonly powerFrom: number; // FFT bins [powerFrom, powerTo) are the ones the mel bank reads
  private readonly powerTo: number;
  private readonly fft: FFT;
  private readonly edge: Float32Array; // [windowSize] reflected samples for frames that reach past an edge
  private readonly frame: Float64Array; // [paddedSize], zeros past windowSize
  private readonly spectrum: Float64Array; // [2 * paddedSize] interleaved re/im (fft.js fills bins 0..N/2)
  private readonly power: Float64Array; // [paddedSize / 2 + 1]

  constructor(recipe: FbankRecipe) {
    if (!(recipe.sampleRate > 0)) {
      throw new InvalidArgumentError(`Fbank recipe "${recipe.name}": sampleRate must be positive, received ${recipe.sampleRate}.`);
    }
    if (!(recipe.preemphasisCoeff >= 0 && recipe.preemphasisCoeff <= 1)) {
      throw new InvalidArgumentError(`Fbank recipe "${recipe.name}": preemphasisCoeff must be in [0, 1], received ${recipe.preemphasisCoeff}.`);
    }
    this.geometry = geometryOf(recipe);
    let paddedSize = 1;
    while (paddedSize < this.geometry.windowSize) paddedSize *= 2; // Kaldi round_to_power_of_two
    this.numMelBins = recipe.numMelBins;
    this.preemph = Math.fround(recipe.preemphasisCoeff);
    this.removeDc = recipe.removeDcOffset;
    this.windowSize = this.geometry.windowSize;
    this.window = windowFunction(recipe, this.windowSize);
    const mel = melBank(recipe, paddedSize);
    this.melStart = mel.start;
    this.melLength = mel.length;
    this.melWeights = mel.weights;
    this.powerFrom = Math.min(...mel.start);
    this.powerTo = Math.max(...mel.start.map((first, b) => first + mel.length[b]));
    this.fft = new FFT(paddedSize);
    this.edge = new Float32Array(this.windowSize);
    this.frame = new Float64Array(paddedSize);
    this.spectrum = new Float64Array(2 * paddedSize);
    this.power = new Float64Array(paddedSize / 2 + 1);
  }

  /**
   * Computes frame `frameIndex` into out[outOffset .. outOffset + numMelBins).
   * source[0] is absolute sample `sourceStart`; the signal has numSamples samples so far, and
   * indices outside [0, numSamples) are reflected like Kaldi's ExtractWindow.
   */
  computeFrame(source: Float32Array, sourceStart: number, numSamples: number, frameIndex: number, out: Float32Array, outOffset: number): void {
    const size = this.windowSize;
    const begin = firstSample(frameIndex, this.geometry);
    // The window's samples are src[base .. base + size): the caller's buffer, or a reflected copy at the edges.
    let src = source;
    let base = begin - sourceStart;
    if (base < 0 || begin + size > numSamples) {
      src = this.edge;
      base = 0;
      for (let i = 0; i < size; i++) {
        let s = begin + i;
        while (s < 0 || s >= numSamples) s = s < 0 ? -s - 1 : 2 * numSamples - 1 - s;
        if (s < sourceStart) throw new Error(`fbank: sample ${s} was already discarded (buffer starts at ${sourceStart})`);
        src[i] = source[s - sourceStart];
      }
    }

    // DC removal, pre-emphasis (backwards in place in Kaldi, x[0] -= c * x[0]) and the window in one
    // pass: ((x[i] - mean) - c * (x[i-1] - mean)) * w[i].
    const c = this.preemph;
    let dc = 0;
    if (this.removeDc) {
      let sum = 0;
      for (let i = 0; i < size; i++) sum += src[base + i];
      dc = (sum / size) * (1 - c);
    }
    const frame = this.frame;
    const w = this.window;
    for (let i = size - 1; i > 0; i--) frame[i] = (src[base + i] - c * src[base + i - 1] - dc) * w[i];
    frame[0] = (src[base] - c * src[base] - dc) * w[0];

    this.fft.realTransform(this.spectrum, frame);
    const spec = this.spectrum;
    const power = this.power;
    for (let k = this.powerFrom; k < this.powerTo; k++) {
      const re = spec[2 * k];
      const im = spec[2 * k + 1];
      power[k] = re * re + im * im;
    }

    const start = this.melStart;
    const length = this.melLength;
    const weights = this.melWeights;
    for (let b = 0, wi = 0; b < this.numMelBins; b++) {
      let p = start[b];
      const end = wi + length[b];
      let energy = 0;
      while (wi < end) energy += weights[wi++] * power[p++];
      out[outOffset + b] = Math.log(energy > FLT_EPSILON ? energy : FLT_EPSILON);
    }
  }
}

const kernels = new Map<string, FbankKernel>();

/** One kernel per distinct recipe (keyed by value, so equal recipe objects share tables). */
function kernelFor(recipe: FbankRecipe): FbankKernel {
  const key = JSON.stringify([
    recipe.sampleRate,
    recipe.numMelBins,
    recipe.frameLengthMs,
    recipe.frameShiftMs,
    recipe.lowFreqHz,
    recipe.highFreqHz,
    recipe.snipEdges,
    recipe.preemphasisCoeff,
    recipe.removeDcOffset,
    recipe.window,
  ]);
  let kernel = kernels.get(key);
  if (!kernel) {
    kernel = new FbankKernel(recipe);
    kernels.set(key, kernel);
  }
  return kernel;
}

/** Log mel fbank of a complete signal (samples in [-1, 1] at recipe.sampleRate). Returns [numFrames, numMelBins] row-major. */
export function computeFbank(samples: Float32Array, recipe: FbankRecipe): Float32Array {
  const kernel = kernelFor(recipe);
  const numFrames = countFrames(samples.length, kernel.geometry, true);
  const bins = kernel.numMelBins;
  const out = new Float32Array(numFrames * bins); // [numFrames, numMelBins] row-major
  for (let f = 0; f < numFrames; f++) kernel.computeFrame(samples, 0, samples.length, f, out, f * bins);
  return out;
}

/**
 * Streaming fbank: feed blocks of samples, pop frames as they become ready. The concatenated output
 * equals computeFbank over the concatenated input. A frame is ready once its whole window has been
 * seen (or, after inputFinished(), always: the end is then reflected). Samples no later frame needs
 * are dropped on popFrames(), so memory stays bounded when frames are popped regularly.
 */
export class OnlineFbank {
  private readonly kernel: FbankKernel;
  private buffer = new Float32Array(4096);
  private bufferStart = 0; // absolute index of buffer[0]
  private bufferLength = 0;
  private numSamplesSeen = 0;
  private numFramesPopped = 0;
  private finished = false;

  constructor(recipe: FbankRecipe) {
    this.kernel = kernelFor(recipe);
  }

  acceptWaveform(samples: Float32Array): void {
    if (this.finished) {
      throw new InvalidArgumentError('OnlineFbank.acceptWaveform was called after inputFinished(); create a new OnlineFbank for a new stream.');
    }
    if (samples.length === 0) return;
    const needed = this.bufferLength + samples.length;
    if (needed > this.buffer.length) {
      let capacity = this.buffer.length;
      while (capacity < needed) capacity *= 2;
      const grown = new Float32Array(capacity);
      grown.set(this.buffer.subarray(0, this.bufferLength));
      this.buffer = grown;
    }
    this.buffer.set(samples, this.bufferLength);
    this.bufferLength = needed;
    this.numSamplesSeen += samples.length;
  }

  /** No more samples: the last frames (snipEdges false) may now reach past the end, which is reflected. */
  inputFinished(): void {
    this.finished = true;
  }

  /** Frames computable so far, popped or not (all frames of the signal once input is finished). */
  get numFramesReady(): number {
    return countFrames(this.numSamplesSeen, this.kernel.geometry, this.finished);
  }

  /** Samples held for frames not popped yet (about one window once frames are popped regularly). */
  get numSamplesBuffered(): number {
    return this.bufferLength;
  }

  /** Every ready frame not popped yet: [k, numMelBins] row-major (k may be 0). */
  popFrames(): Float32Array {
    const end = this.numFramesReady;
    const bins = this.kernel.numMelBins;
    const out = new Float32Array((end - this.numFramesPopped) * bins); // [k, numMelBins] row-major
    for (let f = this.numFramesPopped, row = 0; f < end; f++, row++) {
      this.kernel.computeFrame(this.buffer, this.bufferStart, this.numSamplesSeen, f, out, row * bins);
    }
    this.numFramesPopped = end;
    this.discardBefore(Math.min(firstSample(end, this.kernel.geometry), this.numSamplesSeen));
    return out;
  }

  /** Drops samples before absolute index `keepFrom` (no later frame reads them). */
  private discardBefore(keepFrom: number): void {
    const drop = keepFrom - this.bufferStart;
    if (drop <= 0) return;
    this.buffer.copyWithin(0, drop, this.bufferLength);
    this.bufferLength -= drop;
    this.bufferStart = keepFrom;
  }
}
