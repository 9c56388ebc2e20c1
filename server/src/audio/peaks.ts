/**
 * Waveform peaks for the UI: the min and max sample of every 10 ms (160 samples at 16 kHz),
 * computed while the recording streams through decodeAudio, so a long meeting never sits in memory.
 *
 * Stored in the binary format of BBC audiowaveform (`.dat` version 1, 8-bit), which waveform-data.js
 * and peaks.js read directly; little-endian:
 *   int32 version = 1 | uint32 flags = 1 (8-bit values) | int32 sampleRate | int32 samplesPerPeak |
 *   uint32 length (number of peaks) | then `length` pairs of int8 (min, max).
 * Values are 16-bit sample >> 8, i.e. floor(x * 128) clamped to [-128, 127] for x in [-1, 1], as
 * audiowaveform computes them; divide by 128 to get back to [-1, 1].
 */
import { InvalidArgumentError } from '../common/errors';
import { decodeAudio, TARGET_SAMPLE_RATE, type DecodeOptions } from './decode';

/** 10 ms at 16 kHz. */
export const SAMPLES_PER_PEAK = 160;
export const PEAKS_HEADER_BYTES = 20;
const FORMAT_VERSION = 1;
const FLAG_8_BIT = 1;

export interface Peaks {
  sampleRate: number;
  samplesPerPeak: number;
  /** [length, 2] row-major: min, max of each peak as int8 (value / 128 = amplitude). */
  data: Int8Array;
}

export interface ComputedPeaks extends Peaks {
  /** Decoded samples at sampleRate: the exact duration is totalSamples / sampleRate. */
  totalSamples: number;
}

/** The JSON form served to browsers. */
export interface PeaksJson {
  sampleRate: number;
  samplesPerPeak: number;
  /** Number of peaks (data holds 2 × length numbers). */
  length: number;
  /** Value range of data: 8 means int8, divide by 128 for amplitude. */
  bits: 8;
  /** min, max, min, max, … */
  data: number[];
}

export function peakCount(peaks: Peaks): number {
  return peaks.data.length / 2;
}

function quantize(x: number): number {
  const q = Math.floor(x * 128);
  return q > 127 ? 127 : q < -128 ? -128 : q;
}

/** Turns blocks of samples (any sizes) into peaks; the last peak may cover fewer samples. */
export class PeaksAccumulator {
  private data = new Int8Array(2 * 1024);
  private count = 0;
  private inPeak = 0;
  private min = Infinity;
  private max = -Infinity;
  private total = 0;

  constructor(
    readonly sampleRate: number = TARGET_SAMPLE_RATE,
    readonly samplesPerPeak: number = SAMPLES_PER_PEAK,
  ) {
    if (!Number.isInteger(samplesPerPeak) || samplesPerPeak <= 0)
      throw new InvalidArgumentError(`samplesPerPeak must be a positive integer, received ${samplesPerPeak}.`);
  }

  push(block: Float32Array): void {
    const per = this.samplesPerPeak;
    let { min, max, inPeak } = this;
    for (let i = 0; i < block.length; i++) {
      const v = block[i];
      if (v < min) min = v;
      if (v > max) max = v;
      if (++inPeak === per) {
        this.append(min, max);
        min = Infinity;
        max = -Infinity;
        inPeak = 0;
      }
    }
    this.min = min;
    this.max = max;
    this.inPeak = inPeak;
    this.total += block.length;
  }

  finish(): ComputedPeaks {
    if (this.inPeak > 0) {
      this.append(this.min, this.max);
      this.inPeak = 0;
      this.min = Infinity;
      this.max = -Infinity;
    }
    return { sampleRate: this.sampleRate, samplesPerPeak: this.samplesPerPeak, totalSamples: this.total, data: this.data.slice(0, 2 * this.count) };
  }

  private append(min: number, max: number): void {
    if (2 * this.count === this.data.length) {
      const grown = new Int8Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[2 * this.count] = quantize(min);
    this.data[2 * this.count + 1] = quantize(max);
    this.count++;
  }
}

/**
 * Peaks (min/max per 10 ms at 16 kHz) of any recording ffmpeg reads, decoded as a stream.
 * Throws what decodeAudio throws (InvalidAudioError, NoAudioStreamError, AbortedError, …).
 */
export async function computePeaks(file: string, options: Pick<DecodeOptions, 'signal' | 'info' | 'channel'> = {}): Promise<ComputedPeaks> {
  const accumulator = new PeaksAccumulator(TARGET_SAMPLE_RATE, SAMPLES_PER_PEAK);
  for await (const block of decodeAudio(file, options)) accumulator.push(block);
  return accumulator.finish();
}

/** The audiowaveform `.dat` v1 bytes of `peaks`. */
export function encodePeaks(peaks: Peaks): Buffer {
  const length = peakCount(peaks);
  const out = Buffer.alloc(PEAKS_HEADER_BYTES + peaks.data.length);
  out.writeInt32LE(FORMAT_VERSION, 0);
  out.writeUInt32LE(FLAG_8_BIT, 4);
  out.writeInt32LE(peaks.sampleRate, 8);
  out.writeInt32LE(peaks.samplesPerPeak, 12);
  out.writeUInt32LE(length, 16);
  out.set(new Uint8Array(peaks.data.buffer, peaks.data.byteOffset, peaks.data.length), PEAKS_HEADER_BYTES);
  return out;
}

/** Reads what encodePeaks wrote; throws InvalidArgumentError for anything else. */
export function decodePeaks(bytes: Uint8Array): Peaks {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (why: string): InvalidArgumentError =>
    new InvalidArgumentError(`Not a peaks file (audiowaveform .dat v1, 8-bit): ${why}. Recompute the peaks from the recording.`);
  if (buf.length < PEAKS_HEADER_BYTES) throw bad(`${buf.length} bytes is shorter than the ${PEAKS_HEADER_BYTES}-byte header`);
  const version = buf.readInt32LE(0);
  const flags = buf.readUInt32LE(4);
  const sampleRate = buf.readInt32LE(8);
  const samplesPerPeak = buf.readInt32LE(12);
  const length = buf.readUInt32LE(16);
  if (version !== FORMAT_VERSION) throw bad(`version ${version}`);
  if (flags !== FLAG_8_BIT) throw bad(`flags ${flags} (only 8-bit values are written here)`);
  if (sampleRate <= 0 || samplesPerPeak <= 0) throw bad(`sample rate ${sampleRate}, samples per peak ${samplesPerPeak}`);
  if (buf.length !== PEAKS_HEADER_BYTES + 2 * length) throw bad(`header says ${length} peaks but ${buf.length - PEAKS_HEADER_BYTES} data bytes follow`);
  const data = new Int8Array(2 * length);
  data.set(new Int8Array(buf.buffer, buf.byteOffset + PEAKS_HEADER_BYTES, 2 * length));
  return { sampleRate, samplesPerPeak, data };
}

/** Merges every `factor` consecutive peaks into one (min of mins, max of maxes); the last may merge fewer. */
export function downsamplePeaks(peaks: Peaks, factor: number): Peaks {
  if (!Number.isInteger(factor) || factor <= 0) throw new InvalidArgumentError(`The downsampling factor must be a positive integer, received ${factor}.`);
  if (factor === 1) return peaks;
  const length = peakCount(peaks);
  const outLength = Math.ceil(length / factor);
  const out = new Int8Array(2 * outLength); // [outLength, 2]
  for (let o = 0; o < outLength; o++) {
    let min = 127;
    let max = -128;
    for (let i = o * factor, end = Math.min(length, i + factor); i < end; i++) {
      if (peaks.data[2 * i] < min) min = peaks.data[2 * i];
      if (peaks.data[2 * i + 1] > max) max = peaks.data[2 * i + 1];
    }
    out[2 * o] = min;
    out[2 * o + 1] = max;
  }
  return { sampleRate: peaks.sampleRate, samplesPerPeak: peaks.samplesPerPeak * factor, data: out };
}

/**
 * Peaks at no more than `peaksPerSecond` (the stored resolution when undefined or finer than it):
 * the stored peaks merged by a whole factor, so values stay exact mins and maxes.
 */
export function peaksAtResolution(peaks: Peaks, peaksPerSecond?: number): Peaks {
  if (peaksPerSecond === undefined) return peaks;
  if (!(Number.isFinite(peaksPerSecond) && peaksPerSecond > 0)) {
    throw new InvalidArgumentError(`resolution must be a positive number of peaks per second, received ${String(peaksPerSecond)}.`);
  }
  const stored = peaks.sampleRate / peaks.samplesPerPeak;
  return downsamplePeaks(peaks, Math.max(1, Math.ceil(stored / peaksPerSecond - 1e-9)));
}

export function peaksToJson(peaks: Peaks): PeaksJson {
  return { sampleRate: peaks.sampleRate, samplesPerPeak: peaks.samplesPerPeak, length: peakCount(peaks), bits: 8, data: Array.from(peaks.data) };
}
