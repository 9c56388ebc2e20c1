/**
 * decodeAudio on a 20-minute file: exact block sizes and count, and memory that stays far below the
 * whole decoded file (76.8 MB) while a slow consumer makes ffmpeg wait on the pipe.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { decodeAudio, DEFAULT_BLOCK_SAMPLES, TARGET_SAMPLE_RATE } from './decode';
import { ffmpegBinaries } from './ffmpeg';

const DURATION_SEC = 20 * 60;
// The whole file as float32 would be 76.8 MB (1200 s × 16000 × 4 bytes); allow about half of that.
const MAX_GROWTH_BYTES = 40 * 1024 * 1024;

let dir: string;

function generate(name: string, args: string[]): string {
  const out = path.join(dir, name);
  execFileSync(ffmpegBinaries().ffmpegPath, ['-v', 'error', '-nostdin', '-y', ...args, out]);
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'audio-streaming-'));
  // Warm up (module loading, fluent-ffmpeg's one-off capability checks) so it does not count as growth.
  const warmUp = generate('warm-up.wav', ['-f', 'lavfi', '-i', 'sine=f=440:r=16000:d=2']);
  for await (const block of decodeAudio(warmUp)) expect(block.length).toBeGreaterThan(0);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * V8 frees dropped ArrayBuffers lazily (tens of MB of garbage can wait for a collection), so raw RSS
 * would measure GC timing rather than what the decoder holds. A real consumer (inference) allocates
 * enough to collect often; this one collects every few blocks. A decoder or pipe that kept the file
 * would still show its full 76.8 MB here.
 */
function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

interface StreamStats {
  sizes: number[];
  /** Peak growth of the process's resident memory. */
  maxRssGrowth: number;
  /** Peak growth of ArrayBuffer memory (blocks, pipe chunks): unlike RSS, not masked by an earlier test's freed pages. */
  maxBufferGrowth: number;
}

async function decodeSlowly(file: string): Promise<StreamStats> {
  const gc = exposeGc();
  const sizes: number[] = [];
  gc();
  const baseline = process.memoryUsage();
  let maxRssGrowth = 0;
  let maxBufferGrowth = 0;
  for await (const block of decodeAudio(file)) {
    sizes.push(block.length);
    const now = process.memoryUsage();
    maxRssGrowth = Math.max(maxRssGrowth, now.rss - baseline.rss);
    maxBufferGrowth = Math.max(maxBufferGrowth, now.arrayBuffers - baseline.arrayBuffers);
    // A consumer slower than ffmpeg: without back-pressure the pipe would buffer the whole file.
    await sleep(20);
    if (sizes.length % 5 === 0) gc();
  }
  return { sizes, maxRssGrowth, maxBufferGrowth };
}

function expectTenSecondBlocks(sizes: number[]): void {
  const total = sizes.reduce((a, b) => a + b, 0);
  expect(Math.abs(total - DURATION_SEC * TARGET_SAMPLE_RATE)).toBeLessThanOrEqual(0.1 * TARGET_SAMPLE_RATE);
  expect(sizes.length).toBe(Math.ceil(total / DEFAULT_BLOCK_SAMPLES));
  expect(sizes.slice(0, -1).every((n) => n === DEFAULT_BLOCK_SAMPLES)).toBe(true);
  expect(sizes[sizes.length - 1]).toBeGreaterThan(0);
  expect(sizes[sizes.length - 1]).toBeLessThanOrEqual(DEFAULT_BLOCK_SAMPLES);
}

test('a 20-minute mp3 streams in 10 s blocks without holding the file in memory', async () => {
  const file = generate('long.mp3', ['-f', 'lavfi', '-i', `anoisesrc=r=16000:a=0.3:d=${DURATION_SEC}`, '-c:a', 'libmp3lame', '-b:a', '32k']);
  const { sizes, maxRssGrowth, maxBufferGrowth } = await decodeSlowly(file);
  expectTenSecondBlocks(sizes);
  expect(maxRssGrowth).toBeLessThan(MAX_GROWTH_BYTES);
  expect(maxBufferGrowth).toBeLessThan(MAX_GROWTH_BYTES);
}, 30_000);

test('a 20-minute 8 kHz telephone wav is resampled and streamed the same way', async () => {
  const file = generate('long8k.wav', ['-f', 'lavfi', '-i', `anoisesrc=r=8000:a=0.3:d=${DURATION_SEC}`, '-c:a', 'pcm_s16le']);
  const { sizes, maxRssGrowth, maxBufferGrowth } = await decodeSlowly(file);
  expectTenSecondBlocks(sizes);
  expect(maxRssGrowth).toBeLessThan(MAX_GROWTH_BYTES);
  expect(maxBufferGrowth).toBeLessThan(MAX_GROWTH_BYTES);
}, 30_000);
