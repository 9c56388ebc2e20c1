import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { devDataDir } from '../common/paths';
import { AbortedError, FileNotFoundError, InvalidArgumentError, InvalidAudioError } from '../common/errors';
import { decodeAudio, decodeToArray, Float32BlockAssembler, TARGET_SAMPLE_RATE } from './decode';
import { ffmpegBinaries } from './ffmpeg';
import { probeAudio } from './probe';

const SOURCE = path.join(devDataDir, 'diarization', 'pyannote_sample.wav'); // 16 kHz mono s16
const CLIP_SEC = 5;
const CLIP_SAMPLES = CLIP_SEC * TARGET_SAMPLE_RATE;

let dir: string;
/** The first 5 s of the dev clip, read straight from the WAV bytes (not through ffmpeg). */
let reference: Float32Array;

function generate(name: string, args: string[]): string {
  const out = path.join(dir, name);
  execFileSync(ffmpegBinaries().ffmpegPath, ['-v', 'error', '-nostdin', '-y', ...args, out]);
  return out;
}

/** Samples of a 16-bit PCM WAV, scaled to [-1, 1). */
function readPcm16Wav(file: string): Float32Array {
  const bytes = readFileSync(file);
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === 'data') {
      const samples = new Float32Array(Math.min(size, bytes.length - offset - 8) >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(offset + 8 + 2 * i) / 32768;
      return samples;
    }
    offset += 8 + size + (size & 1);
  }
  throw new Error(`no data chunk in ${file}`);
}

/** Pearson correlation of the overlapping part, no lag. */
function correlation(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/** Sign changes per second at 16 kHz: ≈ 2 × the frequency of a pure tone. */
function zeroCrossingsPerSec(x: Float32Array): number {
  let crossings = 0;
  for (let i = 1; i < x.length; i++) if (x[i - 1] < 0 !== x[i] < 0) crossings++;
  return (crossings * TARGET_SAMPLE_RATE) / x.length;
}

/** Power at one frequency (Goertzel), normalised by length. */
function tonePower(x: Float32Array, hz: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / TARGET_SAMPLE_RATE);
  let s1 = 0;
  let s2 = 0;
  for (const v of x) {
    const s0 = v + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (x.length * x.length);
}

/** ffmpeg processes started by this test process (Linux /proc); empty elsewhere. */
function childFfmpegPids(): number[] {
  if (process.platform !== 'linux') return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && comm === 'ffmpeg') pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

async function waitForNoFfmpegChildren(): Promise<number[]> {
  for (let i = 0; i < 100 && childFfmpegPids().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  return childFfmpegPids();
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'audio-decode-'));
  const clip = generate('clip.wav', ['-i', SOURCE, '-t', String(CLIP_SEC), '-c:a', 'pcm_s16le']);
  reference = readPcm16Wav(clip);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('Float32BlockAssembler', () => {
  const samples = Float32Array.from({ length: 25 }, (_, i) => (i - 12) / 10); // includes -1.2 and 1.2
  const bytes = new Uint8Array(samples.buffer);
  const clamped = samples.map((v) => Math.max(-1, Math.min(1, v)));

  test.each([1, 3, 5, 7, 13, 100])('cuts bytes split every %i into exact blocks and carries partial samples', (chunkBytes) => {
    const assembler = new Float32BlockAssembler(4);
    const blocks: Float32Array[] = [];
    for (let offset = 0; offset < bytes.length; offset += chunkBytes) {
      // Copy into an odd offset so that the chunk is not 4-byte aligned.
      const chunk = Buffer.alloc(chunkBytes + 1).subarray(1);
      const end = Math.min(bytes.length, offset + chunkBytes);
      chunk.set(bytes.subarray(offset, end));
      blocks.push(...assembler.push(chunk.subarray(0, end - offset)));
    }
    expect(assembler.pendingBytes).toBe(0);
    const last = assembler.flush();
    expect(blocks.map((b) => b.length)).toEqual([4, 4, 4, 4, 4, 4]);
    expect(last).toEqual(Float32Array.from([clamped[24]]));
    expect(assembler.samples).toBe(25);
    const joined = Float32Array.from([...blocks.flatMap((b) => [...b]), ...last!]);
    expect(joined).toEqual(Float32Array.from(clamped));
  });

  test('keeps an incomplete trailing sample pending instead of inventing one', () => {
    const assembler = new Float32BlockAssembler(8);
    expect(assembler.push(bytes.subarray(0, 6))).toEqual([]);
    expect(assembler.pendingBytes).toBe(2);
    expect(assembler.flush()).toEqual(Float32Array.from([clamped[0]]));
  });

  test('replaces NaN with 0', () => {
    const assembler = new Float32BlockAssembler(2);
    const [block] = assembler.push(new Uint8Array(Float32Array.from([Number.NaN, 0.5]).buffer));
    expect(Array.from(block)).toEqual([0, 0.5]);
  });
});

describe('formats', () => {
  // [file name, ffmpeg output args, minimum correlation with the original 16 kHz samples]
  const cases: Array<[string, string[], number]> = [
    ['wav16k.wav', ['-c:a', 'pcm_s16le'], 0.99],
    ['lossless.flac', ['-c:a', 'flac'], 0.99],
    ['speech.mp3', ['-c:a', 'libmp3lame', '-b:a', '64k'], 0.95],
    ['speech.m4a', ['-c:a', 'aac', '-b:a', '64k'], 0.95],
    ['speech.ogg', ['-c:a', 'libopus', '-b:a', '32k'], 0.95],
    ['stereo44k.wav', ['-ar', '44100', '-ac', '2', '-c:a', 'pcm_s16le'], 0.99],
    ['six48k.wav', ['-ar', '48000', '-ac', '6', '-c:a', 'pcm_s16le'], 0.99],
    ['phone-mulaw.wav', ['-ar', '8000', '-c:a', 'pcm_mulaw'], 0.95],
    ['phone-alaw.wav', ['-ar', '8000', '-c:a', 'pcm_alaw'], 0.95],
  ];

  test.each(cases)('%s decodes to the original 16 kHz mono samples', async (name, args, minCorrelation) => {
    const file = generate(name, ['-i', SOURCE, '-t', String(CLIP_SEC), ...args]);
    const decoded = await decodeToArray(file);
    // Codec padding (AAC priming, Opus pre-skip) may add a few ms; never more than 0.1 s.
    expect(Math.abs(decoded.length - CLIP_SAMPLES)).toBeLessThanOrEqual(0.1 * TARGET_SAMPLE_RATE);
    expect(correlation(reference, decoded)).toBeGreaterThan(minCorrelation);
    expect(decoded.every((v) => v >= -1 && v <= 1)).toBe(true);
  });

  test('16 kHz PCM WAV comes out bit-exact (s16 / 32768)', async () => {
    const decoded = await decodeToArray(generate('exact.wav', ['-i', SOURCE, '-t', String(CLIP_SEC), '-c:a', 'pcm_s16le']));
    expect(decoded.length).toBe(reference.length);
    let maxDiff = 0;
    for (let i = 0; i < decoded.length; i++) maxDiff = Math.max(maxDiff, Math.abs(decoded[i] - reference[i]));
    expect(maxDiff).toBeLessThan(1e-6);
  });

  test.each([
    ['video.mp4', ['-c:v', 'mpeg4', '-c:a', 'aac']],
    ['video.mkv', ['-c:v', 'mpeg4', '-c:a', 'libvorbis']],
  ])('%s (video with sound) decodes its audio track', async (name, codecArgs) => {
    const file = generate(name, [
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=160x120:rate=10',
      '-i',
      SOURCE,
      '-map',
      '0:v',
      '-map',
      '1:a',
      '-t',
      String(CLIP_SEC),
      ...codecArgs,
    ]);
    const info = await probeAudio(file);
    expect(info.hasVideo).toBe(true);
    const decoded = await decodeToArray(file, { info });
    expect(Math.abs(decoded.length - CLIP_SAMPLES)).toBeLessThanOrEqual(0.1 * TARGET_SAMPLE_RATE);
    expect(correlation(reference, decoded)).toBeGreaterThan(0.95);
  });
});

describe('channels', () => {
  let stereo: string;
  beforeAll(() => {
    stereo = generate('tones.wav', ['-f', 'lavfi', '-i', 'aevalsrc=0.5*sin(2*PI*300*t)|0.5*sin(2*PI*1000*t):s=44100:d=3', '-c:a', 'pcm_s16le']);
  });

  test('channel 0 and channel 1 are the left (300 Hz) and right (1000 Hz) tones', async () => {
    const left = await decodeToArray(stereo, { channel: 0 });
    const right = await decodeToArray(stereo, { channel: 1 });
    expect(left.length).toBe(3 * TARGET_SAMPLE_RATE);
    expect(right.length).toBe(3 * TARGET_SAMPLE_RATE);
    expect(zeroCrossingsPerSec(left)).toBeCloseTo(600, -1);
    expect(zeroCrossingsPerSec(right)).toBeCloseTo(2000, -1);
    expect(tonePower(left, 300)).toBeGreaterThan(100 * tonePower(left, 1000));
    expect(tonePower(right, 1000)).toBeGreaterThan(100 * tonePower(right, 300));
  });

  test('without a channel, the downmix carries both tones', async () => {
    const mix = await decodeToArray(stereo);
    const p300 = tonePower(mix, 300);
    const p1000 = tonePower(mix, 1000);
    expect(p300).toBeGreaterThan(0.01);
    expect(p1000).toBeGreaterThan(0.01);
    expect(p300 / p1000).toBeGreaterThan(0.5);
    expect(p300 / p1000).toBeLessThan(2);
  });

  test('channel 0 of a mono file is the file itself', async () => {
    const mono = path.join(dir, 'clip.wav');
    expect(await decodeToArray(mono, { channel: 0 })).toEqual(reference);
  });

  test('a channel that is not an integer is refused', async () => {
    await expect(decodeToArray(stereo, { channel: 0.5 })).rejects.toThrow(InvalidArgumentError);
    await expect(decodeToArray(stereo, { channel: -1 })).rejects.toThrow(/channel -1 does not exist.*2 channels/);
  });
});

describe('blocks, limits and cancellation', () => {
  let twoMinutes: string;
  beforeAll(() => {
    twoMinutes = generate('two-minutes.wav', ['-f', 'lavfi', '-i', 'anoisesrc=r=8000:a=0.3:d=120', '-c:a', 'pcm_s16le']);
  });

  test('blocks have exactly blockSamples samples, the last one shorter', async () => {
    const sizes: number[] = [];
    for await (const block of decodeAudio(path.join(dir, 'clip.wav'), { blockSamples: 30_000 })) sizes.push(block.length);
    expect(sizes).toEqual([30_000, 30_000, 20_000]);
  });

  test.each([0, -5, 1.5, Number.NaN])('blockSamples %p is refused', async (blockSamples) => {
    await expect(decodeToArray(path.join(dir, 'clip.wav'), { blockSamples })).rejects.toThrow(InvalidArgumentError);
  });

  test('decodeToArray refuses a file longer than maxDurationSec, naming decodeAudio', async () => {
    const err = await decodeToArray(twoMinutes, { maxDurationSec: 60 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/two-minutes\.wav.*2\.0 min.*maxDurationSec = 60 s.*decodeAudio/);
  });

  test('decodeToArray also enforces the limit when the container gives no duration', async () => {
    const { durationSec: _unknown, ...info } = await probeAudio(twoMinutes);
    await expect(decodeToArray(twoMinutes, { info, maxDurationSec: 30 })).rejects.toThrow(/maxDurationSec = 30 s/);
    expect(await waitForNoFfmpegChildren()).toEqual([]);
  });

  test('an already aborted signal stops before anything starts', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(decodeToArray(twoMinutes, { signal: controller.signal })).rejects.toThrow(AbortedError);
  });

  test('aborting mid-stream kills ffmpeg and throws AbortedError', async () => {
    const controller = new AbortController();
    const blocks: Float32Array[] = [];
    const run = async (): Promise<void> => {
      for await (const block of decodeAudio(twoMinutes, { signal: controller.signal })) {
        blocks.push(block);
        if (blocks.length === 2) {
          if (process.platform === 'linux') expect(childFfmpegPids()).toHaveLength(1);
          controller.abort();
        }
      }
    };
    await expect(run()).rejects.toThrow(AbortedError);
    expect(blocks).toHaveLength(2);
    expect(await waitForNoFfmpegChildren()).toEqual([]);
  });

  test('a consumer that stops early (break) leaves no ffmpeg behind', async () => {
    let seen = 0;
    for await (const block of decodeAudio(twoMinutes)) {
      expect(block.length).toBe(160_000);
      // ffmpeg is still running (held back by the pipe), so the check below could see it.
      if (process.platform === 'linux') expect(childFfmpegPids()).toHaveLength(1);
      if (++seen === 1) break;
    }
    expect(await waitForNoFfmpegChildren()).toEqual([]);
  });

  test('a file removed between probe and decode gives FileNotFoundError', async () => {
    const file = path.join(dir, 'removed.wav');
    copyFileSync(path.join(dir, 'clip.wav'), file);
    const info = await probeAudio(file);
    unlinkSync(file);
    await expect(decodeToArray(file, { info })).rejects.toThrow(FileNotFoundError);
  });

  test("when ffmpeg fails, the error names the file and quotes ffmpeg's reason", async () => {
    const file = path.join(dir, 'replaced.wav');
    copyFileSync(path.join(dir, 'clip.wav'), file);
    const info = await probeAudio(file);
    writeFileSync(file, 'this is not audio any more\n'); // overwritten between probe and decode
    const err = await decodeToArray(file, { info }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidAudioError);
    expect((err as Error).message).toContain(`ffmpeg could not decode "${file}"`);
    expect((err as Error).message).toMatch(/"Invalid data found when processing input"/);
  });
});
