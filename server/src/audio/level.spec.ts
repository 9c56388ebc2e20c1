import { InvalidArgumentError } from '../common/errors';
import { holdForLevel, LevelDecision, LevelMeter, LevelNormalizationOptions, LEVEL_FRAME_SAMPLES, normalizationGainDb, normalizeLevel } from './level';

const OPTIONS: LevelNormalizationOptions = { targetDbfs: -26, percentile: 0.95, estimateSec: 2, maxHoldSec: 5, maxGainDb: 20, maxCutDb: 20 };

/** A 1 kHz tone of this peak amplitude (RMS = amplitude / √2), `seconds` long at 16 kHz. */
function tone(amplitude: number, seconds: number): Float32Array {
  const out = new Float32Array(Math.round(seconds * 16000));
  for (let n = 0; n < out.length; n++) out[n] = amplitude * Math.sin((2 * Math.PI * 1000 * n) / 16000);
  return out;
}

/** Speech-like levels: 0.5 s stretches whose amplitude walks over 30 dB (seeded, deterministic). */
function varyingLevels(seconds: number): Float32Array {
  const out = new Float32Array(seconds * 16000);
  let seed = 7;
  for (let s = 0; s < seconds * 2; s++) {
    seed = (seed * 16807) % 2147483647;
    const amplitude = 0.05 * 10 ** ((-30 * (seed / 2147483647)) / 20);
    out.set(tone(amplitude, 0.5), s * 8000);
  }
  return out;
}

function scaled(x: Float32Array, db: number): Float32Array {
  return x.map((v) => v * 10 ** (db / 20));
}

async function* blocksOf(x: Float32Array, blockSamples: number): AsyncGenerator<Float32Array> {
  for (let i = 0; i < x.length; i += blockSamples) yield x.slice(i, i + blockSamples);
}

async function run(x: Float32Array, blockSamples: number, options = OPTIONS): Promise<{ out: Float32Array; decision: LevelDecision; blocks: number }> {
  let decision: LevelDecision | undefined;
  const parts: Float32Array[] = [];
  for await (const b of normalizeLevel(blocksOf(x, blockSamples), options, (d) => (decision = d))) parts.push(b);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return { out, decision: decision!, blocks: parts.length };
}

describe('LevelMeter', () => {
  it("measures a tone's RMS in dBFS to the histogram's 0.1 dB", () => {
    const meter = new LevelMeter();
    meter.add(tone(0.1, 1));
    expect(meter.levelDbfs(0.95)).toBeCloseTo(20 * Math.log10(0.1 / Math.SQRT2), 1);
    expect(meter.voicedFrames).toBe(50);
  });

  it('does not count digital silence, and counts frames that straddle blocks once', () => {
    const meter = new LevelMeter();
    meter.add(new Float32Array(16000)); // 1 s of zeros
    const x = tone(0.05, 1);
    meter.add(x.subarray(0, 100)); // frames split at odd places
    meter.add(x.subarray(100, 7777));
    meter.add(x.subarray(7777));
    expect(meter.voicedFrames).toBe(16000 / LEVEL_FRAME_SAMPLES);
    expect(meter.levelDbfs(0.5)).toBeCloseTo(20 * Math.log10(0.05 / Math.SQRT2), 1);
  });

  it('has no level before any non-silent frame', () => {
    const meter = new LevelMeter();
    meter.add(new Float32Array(8000));
    expect(meter.levelDbfs(0.95)).toBeUndefined();
  });

  it('reads the percentile: 95 % of frames quiet, 5 % loud', () => {
    const meter = new LevelMeter();
    meter.add(tone(0.01, 0.95 * 2)); // 95 frames at -43 dBFS
    meter.add(tone(0.5, 0.05 * 2)); // 5 frames at -9 dBFS
    expect(meter.levelDbfs(0.95)).toBeCloseTo(20 * Math.log10(0.01 / Math.SQRT2), 1);
    expect(meter.levelDbfs(0.96)).toBeCloseTo(20 * Math.log10(0.5 / Math.SQRT2), 1);
  });
});

describe('normalizationGainDb', () => {
  it('brings the level to the target within the caps', () => {
    expect(normalizationGainDb(-36, OPTIONS)).toBeCloseTo(10);
    expect(normalizationGainDb(-16, OPTIONS)).toBeCloseTo(-10);
    expect(normalizationGainDb(-70, OPTIONS)).toBe(20); // room noise is not raised past the cap
    expect(normalizationGainDb(10, OPTIONS)).toBe(-20);
    expect(normalizationGainDb(undefined, OPTIONS)).toBe(0);
  });
});

describe('normalizeLevel', () => {
  it('gives ±10 dB copies the same output (within the 0.1 dB histogram step)', async () => {
    const x = varyingLevels(8);
    const a = await run(x, 16000);
    const quiet = await run(scaled(x, -10), 16000);
    const loud = await run(scaled(x, 10), 16000);
    expect(quiet.decision.gainDb - a.decision.gainDb).toBeCloseTo(10, 1);
    expect(a.decision.gainDb - loud.decision.gainDb).toBeCloseTo(10, 1);
    const peak = a.out.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    for (const other of [quiet.out, loud.out]) {
      expect(other.length).toBe(x.length);
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(other[i] - a.out[i]));
      expect(worst / peak).toBeLessThan(0.012); // 0.1 dB = 1.2 %
    }
    // The speech level lands on the target.
    const meter = new LevelMeter();
    meter.add(a.out);
    expect(meter.levelDbfs(OPTIONS.percentile)).toBeCloseTo(OPTIONS.targetDbfs, 0);
  });

  it('ignores prepended silence, which stays silence', async () => {
    const x = varyingLevels(4);
    const padded = new Float32Array(24000 + x.length);
    padded.set(x, 24000);
    const plain = await run(x, 16000);
    const shifted = await run(padded, 16000);
    expect(shifted.decision.gainDb).toBeCloseTo(plain.decision.gainDb, 6);
    expect(shifted.out.subarray(0, 24000).every((v) => v === 0)).toBe(true);
    expect(shifted.out.subarray(24000)).toEqual(plain.out);
  });

  it('decides after estimateSec of non-silent audio, with the same gain for every later block', async () => {
    // 1 s of silence, 2 s at one level (the estimate), then 3 s 20 dB louder that must not move the gain.
    const x = new Float32Array(6 * 16000);
    x.set(tone(0.02, 2), 16000);
    x.set(tone(0.2, 3), 3 * 16000);
    const { out, decision, blocks } = await run(x, 4000);
    expect(decision.estimatedOnSec).toBeCloseTo(3, 6);
    expect(decision.levelDbfs).toBeCloseTo(20 * Math.log10(0.02 / Math.SQRT2), 1);
    const gain = 10 ** (decision.gainDb / 20);
    for (const i of [20000, 50000, 90000]) expect(out[i]).toBeCloseTo(x[i] * gain, 6);
    expect(blocks).toBe(24);
  });

  it('holds at most maxHoldSec of audio when the recording is near-silent', async () => {
    const x = tone(0.02, 0.5);
    const long = new Float32Array(10 * 16000);
    long.set(x, 0); // 0.5 s of sound, then silence: the 2 s estimate never fills
    let decidedAfter = -1;
    let yielded = 0;
    for await (const b of normalizeLevel(blocksOf(long, 16000), OPTIONS, (d) => (decidedAfter = d.estimatedOnSec))) yielded += b.length;
    expect(decidedAfter).toBe(OPTIONS.maxHoldSec);
    expect(yielded).toBe(long.length);
  });

  it('passes an all-silent stream through unchanged (0 dB)', async () => {
    const x = new Float32Array(3 * 16000);
    const { out, decision } = await run(x, 16000);
    expect(decision.gainDb).toBe(0);
    expect(decision.levelDbfs).toBeUndefined();
    expect(out).toEqual(x);
  });

  it('holdForLevel passes the blocks unchanged, deciding before the first one comes out', async () => {
    const x = varyingLevels(4);
    const events: string[] = [];
    let gainDb = NaN;
    const out: Float32Array[] = [];
    for await (const b of holdForLevel(blocksOf(x, 16000), OPTIONS, (d) => {
      events.push('decision');
      gainDb = d.gainDb;
    })) {
      events.push('block');
      out.push(b);
    }
    expect(events).toEqual(['decision', 'block', 'block', 'block', 'block']);
    expect(Float32Array.from(out.flatMap((b) => Array.from(b)))).toEqual(x);
    expect(gainDb).toBeCloseTo((await run(x, 16000)).decision.gainDb, 9);
  });

  it('refuses settings that cannot work', async () => {
    const bad = normalizeLevel(blocksOf(tone(0.1, 1), 16000), { ...OPTIONS, maxHoldSec: 1 });
    await expect(bad.next()).rejects.toThrow(InvalidArgumentError);
    await expect(normalizeLevel(blocksOf(tone(0.1, 1), 16000), { ...OPTIONS, percentile: 0 }).next()).rejects.toThrow(/percentile/);
  });
});
