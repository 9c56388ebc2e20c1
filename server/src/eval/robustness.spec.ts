import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeToArray, probeAudio } from '../audio';
import { runFfmpeg } from '../audio/transform';
import { computeDer } from './der';
import {
  formatRobustnessTable,
  PREPENDED_SILENCE_SEC,
  ROBUSTNESS_TRANSFORMS,
  RobustnessTransform,
  selectTransforms,
  shiftTurns,
  shiftUem,
  summarizeRobustness,
  transformArgs,
} from './robustness';

const RATE = 16000;
const TONE_SEC = 2;
const TONE_HZ = 440;
const TONE_AMPLITUDE = 0.1;

let dir: string;
let tone: string;

/** A 16-bit mono WAV of a 440 Hz sine at amplitude 0.1 (RMS 0.0707). */
function writeToneWav(file: string): void {
  const n = TONE_SEC * RATE;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(32767 * TONE_AMPLITUDE * Math.sin((2 * Math.PI * TONE_HZ * i) / RATE)), 2 * i);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(RATE, 24);
  header.writeUInt32LE(RATE * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  writeFileSync(file, Buffer.concat([header, data]));
}

function rms(x: Float32Array, from = 0, to = x.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i] * x[i];
  return Math.sqrt(sum / Math.max(1, to - from));
}

function byName(name: string): RobustnessTransform {
  return selectTransforms(name)[0];
}

async function transformTone(name: string): Promise<{ file: string; samples: Float32Array }> {
  const t = byName(name);
  const file = path.join(dir, `tone.${t.name}.${t.extension}`);
  await runFfmpeg(transformArgs(t, tone, file), `the ${t.name} copy`);
  return { file, samples: await decodeToArray(file) };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'eval-robustness-'));
  tone = path.join(dir, 'tone.wav');
  writeToneWav(tone);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('robustness transforms through ffmpeg, on a known tone', () => {
  const toneRms = TONE_AMPLITUDE / Math.SQRT2;
  // Skip the first and last 0.1 s, where codecs ramp in and out.
  const inner = (x: Float32Array): number => rms(x, 0.1 * RATE, x.length - 0.1 * RATE);

  it('gain-10 scales the level by 10^(-10/20)', async () => {
    const { samples } = await transformTone('gain-10');
    expect(samples.length).toBe(TONE_SEC * RATE);
    expect(inner(samples) / toneRms).toBeCloseTo(10 ** (-10 / 20), 2);
  });

  it('gain+10 scales the level by 10^(10/20) (no clipping at this level)', async () => {
    const { samples } = await transformTone('gain+10');
    expect(inner(samples) / toneRms).toBeCloseTo(10 ** (10 / 20), 2);
  });

  it('mulaw-8k writes 8 kHz μ-law that decodes back to the tone within 0.2 dB', async () => {
    const { file, samples } = await transformTone('mulaw-8k');
    const info = await probeAudio(file);
    expect(info.sampleRate).toBe(8000);
    expect(info.codec).toBe('pcm_mulaw');
    expect(Math.abs(20 * Math.log10(inner(samples) / toneRms))).toBeLessThan(0.2);
  });

  it.each(['mp3-32k', 'opus-24k'])('%s keeps the tone level within 1 dB and the length within 0.1 s', async (name) => {
    const { file, samples } = await transformTone(name);
    expect((await probeAudio(file)).codec).toBe(name.startsWith('mp3') ? 'mp3' : 'opus');
    expect(Math.abs(samples.length - TONE_SEC * RATE)).toBeLessThan(0.1 * RATE);
    expect(Math.abs(20 * Math.log10(inner(samples) / toneRms))).toBeLessThan(1);
  });

  it('silence+1.5s prepends 1.5 s of digital silence and keeps the tone after it', async () => {
    const { samples } = await transformTone('silence+1.5s');
    const lead = PREPENDED_SILENCE_SEC * RATE;
    expect(samples.length).toBe(lead + TONE_SEC * RATE);
    expect(rms(samples, 0, lead)).toBe(0);
    expect(rms(samples, lead, samples.length) / toneRms).toBeCloseTo(1, 3);
    expect(Math.abs(samples[lead + Math.round(RATE / TONE_HZ / 4)] - TONE_AMPLITUDE)).toBeLessThan(1e-3); // the sine's first peak, 1.5 s late
  });
});

describe('reference shift and summary', () => {
  it('shifts the reference and the scored regions by 1.5 s, scoring the prepended stretch', () => {
    const ref = [{ speaker: 'A', startSec: 0.2, endSec: 1.0 }];
    expect(shiftTurns(ref, 1.5)).toEqual([{ speaker: 'A', startSec: 1.7, endSec: 2.5 }]);
    expect(shiftUem([{ startSec: 0, endSec: 30 }], 1.5)).toEqual([
      { startSec: 0, endSec: 1.5 },
      { startSec: 1.5, endSec: 31.5 },
    ]);
    // A hypothesis found 1.5 s late scores perfectly against the shifted reference, and not against the original.
    const hyp = [{ speaker: 'x', startSec: 1.7, endSec: 2.5 }];
    expect(computeDer(shiftTurns(ref, 1.5), hyp, { collarSec: 0 }).der).toBe(0);
    expect(computeDer(ref, hyp, { collarSec: 0 }).der).toBeGreaterThan(0.9);
  });

  it('builds complete ffmpeg argument lists and rejects unknown transform names', () => {
    expect(ROBUSTNESS_TRANSFORMS.map((t) => t.name)).toEqual(['gain-10', 'gain+10', 'mp3-32k', 'mulaw-8k', 'opus-24k', 'silence+1.5s']);
    expect(transformArgs(byName('mp3-32k'), 'in.wav', 'out.mp3')).toEqual([
      '-nostdin',
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-i',
      'in.wav',
      '-map',
      '0:a:0',
      '-ac',
      '1',
      '-map_metadata',
      '-1',
      '-c:a',
      'libmp3lame',
      '-b:a',
      '32k',
      'out.mp3',
    ]);
    expect(() => selectTransforms('gain-10,reverb')).toThrow(/Unknown transform "reverb"; known: gain-10/);
  });

  it('reports pooled DER change and the share of files whose speaker count held', () => {
    const der = (missedSec: number) => ({ scoredSpeechSec: 10, missedSec, falseAlarmSec: 0, confusionSec: 0, der: missedSec / 10, mapping: {} });
    const original = [
      { fileId: 'a', der: der(1), numSpeakers: 2 },
      { fileId: 'b', der: der(1), numSpeakers: 3 },
    ];
    const rows = summarizeRobustness(
      original,
      new Map([
        [
          'gain-10',
          [
            { fileId: 'a', der: der(2), numSpeakers: 2 },
            { fileId: 'b', der: der(4), numSpeakers: 1 },
          ],
        ],
      ]),
    );
    expect(rows[1]).toMatchObject({ transform: 'gain-10', sameCountShare: 0.5, changedCounts: ['b 3→1'] });
    expect(rows[1].pooled.der).toBeCloseTo(0.3, 10);
    expect(rows[1].derChange).toBeCloseTo(0.2, 10);
    expect(formatRobustnessTable(rows)).toMatch(/gain-10 +30\.00 +\+20\.00 .* 50 %\nspeaker count changed:\n {2}gain-10: b 3→1/);
  });
});
