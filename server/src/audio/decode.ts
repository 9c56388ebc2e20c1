/**
 * Any media file → 16 kHz mono float32, streamed in fixed-size blocks so that a long meeting
 * never sits in memory whole. ffmpeg does the decoding (see ffmpeg.ts); this file cuts its byte
 * stream into samples and blocks and turns its failures into errors that say what to do.
 */
import { existsSync } from 'node:fs';
import { endianness } from 'node:os';
import { AbortedError, AppError, FileNotFoundError, InvalidArgumentError, InvalidAudioError, throwIfAborted } from '../common/errors';
import { FfmpegRunError, startPcmDecode, summarizeStderr } from './ffmpeg';
import { probeAudio, type AudioInfo } from './probe';
import { TARGET_SAMPLE_RATE } from './sample-rate';

export { TARGET_SAMPLE_RATE };

/** 10 s at 16 kHz. */
export const DEFAULT_BLOCK_SAMPLES = 160_000;

/** decodeToArray refuses files longer than this unless told otherwise: one hour. */
export const DEFAULT_MAX_DURATION_SEC = 3600;

export interface DecodeOptions {
  /** Decode one input channel (0-based) instead of the downmix; for stereo calls with one party per channel. */
  channel?: number;
  /** Samples per yielded block (the last one may be shorter); default 160000 = 10 s. */
  blockSamples?: number;
  signal?: AbortSignal;
  /** The result of probeAudio(path) when the caller already has it; skips probing again. */
  info?: AudioInfo;
}

let decoderStarts = 0;

/**
 * How many ffmpeg decoders this process has started (every decode goes through decodeProbed).
 * Lets tests and diagnostics check that work refused after probing never reached a decoder.
 */
export function decodersStarted(): number {
  return decoderStarts;
}

const BYTES_PER_SAMPLE = 4;
const LITTLE_ENDIAN_HOST = endianness() === 'LE';
const EMPTY = Buffer.alloc(0);

/**
 * Cuts a stream of float32 little-endian bytes, split anywhere (even inside a sample), into
 * Float32Array blocks of exactly `blockSamples`, clamped to [-1, 1].
 */
export class Float32BlockAssembler {
  private block: Float32Array; // [blockSamples]
  private filled = 0;
  /** 0–3 bytes of a sample split across chunks. */
  private carry: Buffer = EMPTY;
  private total = 0;

  constructor(private readonly blockSamples: number) {
    this.block = new Float32Array(blockSamples);
  }

  /** Samples taken in so far (complete ones only). */
  get samples(): number {
    return this.total;
  }

  /** Bytes of an incomplete sample waiting for the next chunk. */
  get pendingBytes(): number {
    return this.carry.length;
  }

  /** Adds a chunk; returns the blocks it completed (often none). */
  push(chunk: Uint8Array): Float32Array[] {
    const completed: Float32Array[] = [];
    let bytes = chunk;
    if (this.carry.length > 0) {
      bytes = Buffer.concat([this.carry, chunk]);
      this.carry = EMPTY;
    }
    const usable = bytes.length - (bytes.length % BYTES_PER_SAMPLE);
    let offset = 0;
    while (offset < usable) {
      const count = Math.min(this.blockSamples - this.filled, (usable - offset) / BYTES_PER_SAMPLE);
      copySamples(bytes, offset, this.block, this.filled, count);
      this.filled += count;
      this.total += count;
      offset += count * BYTES_PER_SAMPLE;
      if (this.filled === this.blockSamples) {
        completed.push(this.block);
        this.block = new Float32Array(this.blockSamples);
        this.filled = 0;
      }
    }
    if (offset < bytes.length) this.carry = Buffer.from(bytes.subarray(offset));
    return completed;
  }

  /** The last, shorter block, if any samples are left. */
  flush(): Float32Array | undefined {
    if (this.filled === 0) return undefined;
    const last = this.block.slice(0, this.filled);
    this.filled = 0;
    return last;
  }
}

function copySamples(src: Uint8Array, srcOffset: number, dst: Float32Array, dstIndex: number, count: number): void {
  if (LITTLE_ENDIAN_HOST) {
    // Byte copy: works whatever the alignment of src (Buffer chunks need not be 4-byte aligned).
    new Uint8Array(dst.buffer, dst.byteOffset + dstIndex * BYTES_PER_SAMPLE, count * BYTES_PER_SAMPLE).set(
      src.subarray(srcOffset, srcOffset + count * BYTES_PER_SAMPLE),
    );
  } else {
    const view = new DataView(src.buffer, src.byteOffset + srcOffset, count * BYTES_PER_SAMPLE);
    for (let i = 0; i < count; i++) dst[dstIndex + i] = view.getFloat32(i * BYTES_PER_SAMPLE, true);
  }
  // Lossy decoders and the resampler can overshoot full scale slightly; NaN never reaches callers.
  for (let i = dstIndex, end = dstIndex + count; i < end; i++) {
    const v = dst[i];
    if (v > 1) dst[i] = 1;
    else if (v < -1) dst[i] = -1;
    else if (v !== v) dst[i] = 0;
  }
}

function checkOptions(options: DecodeOptions): number {
  const blockSamples = options.blockSamples ?? DEFAULT_BLOCK_SAMPLES;
  if (!Number.isInteger(blockSamples) || blockSamples <= 0) {
    throw new InvalidArgumentError(`blockSamples must be a positive integer, received ${String(options.blockSamples)}.`);
  }
  return blockSamples;
}

function checkChannel(info: AudioInfo, channel: number | undefined): void {
  if (channel === undefined) return;
  if (!Number.isInteger(channel) || channel < 0 || channel >= info.channels) {
    const valid = info.channels === 1 ? '0' : `0 to ${info.channels - 1}`;
    throw new InvalidArgumentError(
      `channel ${String(channel)} does not exist in "${info.path}", which has ${info.channels} channel${info.channels === 1 ? '' : 's'}. ` +
        `Use a channel index from ${valid}, or leave channel out to decode the downmix.`,
    );
  }
}

function decodeFailure(info: AudioInfo, err: FfmpegRunError): AppError {
  if (!existsSync(info.path)) return new FileNotFoundError(info.path); // removed after probing
  const said = summarizeStderr(err.stderr, info.path) || err.message;
  return new InvalidAudioError(
    `ffmpeg could not decode "${info.path}" (${info.formatName}, ${info.codec}): "${said}". ` +
      'The file may be damaged or truncated; check that it plays, or convert it to .wav or .flac and try again.',
    { cause: err },
  );
}

async function* decodeProbed(info: AudioInfo, options: DecodeOptions, blockSamples: number): AsyncGenerator<Float32Array> {
  const { signal, channel } = options;
  checkChannel(info, channel);
  throwIfAborted(signal, 'audio decoding');
  // A mono file's channel 0 is the file itself: no pan filter needed.
  const pickChannel = channel !== undefined && info.channels > 1 ? channel : undefined;
  decoderStarts++;
  const run = startPcmDecode({ input: info.path, sampleRate: TARGET_SAMPLE_RATE, ...(pickChannel !== undefined ? { channel: pickChannel } : {}) });
  const onAbort = (): void => run.kill();
  signal?.addEventListener('abort', onAbort, { once: true });
  const assembler = new Float32BlockAssembler(blockSamples);
  try {
    for await (const chunk of run.stream as AsyncIterable<Buffer>) {
      throwIfAborted(signal, 'audio decoding');
      for (const block of assembler.push(chunk)) yield block;
    }
    await run.done;
    throwIfAborted(signal, 'audio decoding');
    const last = assembler.flush();
    if (last) yield last;
    if (assembler.samples === 0) {
      throw new InvalidAudioError(
        `"${info.path}" contains no audio samples (its ${info.codec} stream is empty or nothing in it could be decoded). Provide a recording that has sound in it.`,
      );
    }
  } catch (err) {
    if (signal?.aborted) throw new AbortedError('audio decoding');
    if (err instanceof AppError) throw err;
    if (err instanceof FfmpegRunError) throw decodeFailure(info, err);
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    run.kill(); // no-op once ffmpeg has exited; stops it when the consumer quits early
  }
}

/**
 * Decodes the first audio stream of any file ffmpeg reads to 16 kHz mono float32 in [-1, 1],
 * yielded in blocks of exactly `blockSamples` (the last one shorter). ffmpeg is paused while the
 * consumer is busy, so memory stays at a few blocks whatever the file's length.
 * Probes first (unless given `info`) and refuses bad input with FileNotFoundError,
 * InvalidArgumentError, InvalidAudioError or NoAudioStreamError; AbortedError when `signal` fires.
 */
export async function* decodeAudio(path: string, options: DecodeOptions = {}): AsyncGenerator<Float32Array> {
  const blockSamples = checkOptions(options);
  throwIfAborted(options.signal, 'audio decoding');
  const info = options.info ?? (await probeAudio(path));
  yield* decodeProbed(info, options, blockSamples);
}

function formatDuration(seconds: number): string {
  return seconds >= 120 ? `${(seconds / 60).toFixed(1)} min` : `${seconds.toFixed(1)} s`;
}

/**
 * The whole decoded clip in one array: for short clips (utterance embedding, tests).
 * Refuses files longer than `maxDurationSec` (default 3600) with InvalidArgumentError, or with
 * what `tooLong` makes: by the probed duration before ffmpeg starts, else while decoding. Stream
 * long recordings with decodeAudio instead.
 */
export async function decodeToArray(
  path: string,
  options: DecodeOptions & { maxDurationSec?: number; tooLong?: (durationSec: number) => AppError } = {},
): Promise<Float32Array> {
  const { maxDurationSec = DEFAULT_MAX_DURATION_SEC, tooLong: makeTooLong, ...decodeOptions } = options;
  if (!(maxDurationSec > 0)) throw new InvalidArgumentError(`maxDurationSec must be a positive number of seconds, received ${String(maxDurationSec)}.`);
  const blockSamples = checkOptions(decodeOptions);
  throwIfAborted(decodeOptions.signal, 'audio decoding');
  const info = decodeOptions.info ?? (await probeAudio(path));
  const tooLong = (seconds: number): AppError =>
    makeTooLong?.(seconds) ??
    new InvalidArgumentError(
      `"${info.path}" is ${formatDuration(seconds)} long, more than decodeToArray accepts (maxDurationSec = ${maxDurationSec} s); ` +
        'stream it with decodeAudio() instead, or pass a larger maxDurationSec.',
    );
  if (info.durationSec !== undefined && info.durationSec > maxDurationSec) throw tooLong(info.durationSec);

  // The container's duration can be missing or an estimate: enforce the limit on what comes out too,
  // with a second of slack for codec padding.
  const maxSamples = Math.ceil((maxDurationSec + 1) * TARGET_SAMPLE_RATE);
  const blocks: Float32Array[] = [];
  let total = 0;
  for await (const block of decodeProbed(info, decodeOptions, blockSamples)) {
    total += block.length;
    if (total > maxSamples) throw tooLong(total / TARGET_SAMPLE_RATE);
    blocks.push(block);
  }
  if (blocks.length === 1) return blocks[0];
  const all = new Float32Array(total); // [numSamples] at 16 kHz
  let offset = 0;
  for (const block of blocks) {
    all.set(block, offset);
    offset += block.length;
  }
  return all;
}
