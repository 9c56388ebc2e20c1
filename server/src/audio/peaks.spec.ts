import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError, InvalidAudioError } from '../common/errors';
import { computePeaks, decodePeaks, downsamplePeaks, encodePeaks, PeaksAccumulator, peaksAtResolution, peaksToJson } from './peaks';

/** A 16 kHz mono 16-bit PCM WAV with exactly these samples. */
function wav16k(samples: Int16Array): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + samples.length * 2, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(16000, 24);
  header.writeUInt32LE(32000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(samples.length * 2, 40);
  return Buffer.concat([header, Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength)]);
}

/**
 * 1650 samples: 50 ms of near-silence (one sample +255, one -1), 50 ms of a 1 kHz tone at ±16384
 * (half scale), then 50 samples: 25 at +32767 and 25 at -32768.
 * Hand-computed peaks (s >> 8 per 160 samples): peak 0 = (-1, 0) since 255 >> 8 = 0 and -1 >> 8 = -1;
 * peaks 1–4 = (0, 0); peaks 5–9 = (-64, 64) (the tone hits ±16384 exactly at its quarter periods);
 * peak 10 covers the last 50 samples = (-128, 127).
 */
function syntheticSamples(): Int16Array {
  const s = new Int16Array(1650);
  s[10] = 255;
  s[20] = -1;
  for (let n = 800; n < 1600; n++) s[n] = Math.round(16384 * Math.sin((2 * Math.PI * 1000 * (n - 800)) / 16000));
  s.fill(32767, 1600, 1625);
  s.fill(-32768, 1625, 1650);
  return s;
}

const EXPECTED = [-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, -64, 64, -64, 64, -64, 64, -64, 64, -64, 64, -128, 127];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'peaks-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('computePeaks of a synthetic silence/tone/full-scale wav gives the hand-computed min/max per 10 ms', async () => {
  const file = path.join(dir, 'synthetic.wav');
  writeFileSync(file, wav16k(syntheticSamples()));
  const peaks = await computePeaks(file);
  expect(peaks.sampleRate).toBe(16000);
  expect(peaks.samplesPerPeak).toBe(160);
  expect(peaks.totalSamples).toBe(1650);
  expect(Array.from(peaks.data)).toEqual(EXPECTED);
});

test('computePeaks refuses a file that is not audio', async () => {
  const file = path.join(dir, 'text.wav');
  writeFileSync(file, 'hello, this is not a recording\n');
  await expect(computePeaks(file)).rejects.toThrow(InvalidAudioError);
});

test('the accumulator gives the same peaks whatever the block sizes', () => {
  const floats = Float32Array.from(syntheticSamples(), (v) => v / 32768);
  for (const size of [1, 7, 159, 160, 161, 1000, 1650]) {
    const acc = new PeaksAccumulator();
    for (let i = 0; i < floats.length; i += size) acc.push(floats.subarray(i, i + size));
    const peaks = acc.finish();
    expect(Array.from(peaks.data)).toEqual(EXPECTED);
    expect(peaks.totalSamples).toBe(1650);
  }
});

test('an empty stream has no peaks; clamping keeps +1.0 at 127', () => {
  expect(new PeaksAccumulator().finish().data.length).toBe(0);
  const acc = new PeaksAccumulator(16000, 2);
  acc.push(Float32Array.from([1, -1, 0.5, -0.5]));
  expect(Array.from(acc.finish().data)).toEqual([-128, 127, -64, 64]);
});

describe('binary format (audiowaveform .dat v1, 8-bit)', () => {
  const peaks = { sampleRate: 16000, samplesPerPeak: 160, data: Int8Array.from(EXPECTED) };

  test('header and data bytes', () => {
    const bytes = encodePeaks(peaks);
    expect(bytes.length).toBe(20 + 22);
    // version 1, flags 1 (8-bit), 16000 = 0x3e80, 160, 11 peaks
    expect(Array.from(bytes.subarray(0, 20))).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 0x80, 0x3e, 0, 0, 160, 0, 0, 0, 11, 0, 0, 0]);
    expect(Array.from(bytes.subarray(20, 24))).toEqual([255, 0, 0, 0]); // -1 as a byte is 255
    expect(bytes[bytes.length - 2]).toBe(128); // -128
  });

  test('round trip', () => {
    const back = decodePeaks(encodePeaks(peaks));
    expect(back.sampleRate).toBe(16000);
    expect(back.samplesPerPeak).toBe(160);
    expect(Array.from(back.data)).toEqual(EXPECTED);
  });

  test('refuses truncated or foreign bytes', () => {
    const bytes = encodePeaks(peaks);
    expect(() => decodePeaks(bytes.subarray(0, 10))).toThrow(/shorter than the 20-byte header/);
    expect(() => decodePeaks(bytes.subarray(0, 30))).toThrow(/header says 11 peaks but 10 data bytes follow/);
    const other = Buffer.from(bytes);
    other.writeInt32LE(2, 0);
    expect(() => decodePeaks(other)).toThrow(InvalidArgumentError);
  });
});

describe('resolution', () => {
  const peaks = { sampleRate: 16000, samplesPerPeak: 160, data: Int8Array.from(EXPECTED) };

  test('downsampling by 4 merges mins and maxes; the last group is shorter', () => {
    const down = downsamplePeaks(peaks, 4);
    expect(down.samplesPerPeak).toBe(640);
    expect(Array.from(down.data)).toEqual([-1, 0, -64, 64, -128, 127]);
  });

  test.each([
    [undefined, 160, 11],
    [100, 160, 11],
    [1000, 160, 11], // finer than stored: stored resolution
    [25, 640, 3],
    [30, 640, 3], // never more peaks per second than asked: factor ceil(100 / 30) = 4
    [1, 16000, 1],
  ])('peaksAtResolution(%p) has samplesPerPeak %p and %p peaks', (resolution, samplesPerPeak, length) => {
    const json = peaksToJson(peaksAtResolution(peaks, resolution));
    expect(json.samplesPerPeak).toBe(samplesPerPeak);
    expect(json.length).toBe(length);
    expect(json.data).toHaveLength(2 * length);
    expect(json.sampleRate).toBe(16000);
    expect(json.bits).toBe(8);
  });

  test('JSON data is the int8 values in order', () => {
    expect(peaksToJson(peaks).data).toEqual(EXPECTED);
  });

  test.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('resolution %p is refused', (resolution) => {
    expect(() => peaksAtResolution(peaks, resolution)).toThrow(/resolution must be a positive number of peaks per second/);
  });
});
