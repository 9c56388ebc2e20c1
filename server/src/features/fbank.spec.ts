import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from '../common/errors';
import { devDataDir, repoRoot } from '../common/paths';
import { FBANK_RECIPES, OnlineFbank, computeFbank, frameStartSample, getFbankRecipe, numFbankFrames, type FbankRecipe } from './fbank';

/** test/fixtures/fbank/fbank_reference.json, written by make_fbank_fixture.py with kaldi-native-fbank. */
interface Fixture {
  excerpts: { id: string; wav: string; startSample: number; numSamples: number; sha256Int16Le: string }[];
  recipes: Record<
    string,
    {
      knfOptions: string;
      features: { excerpt: string; numSamples: number; numFrames: number; numBins: number; float32LeBase64: string }[];
      frameCounts: [number, number][];
    }
  >;
}

const fixture = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'fbank', 'fbank_reference.json'), 'utf8')) as Fixture;

const TOLERANCE = 1e-3;

/** Reads samples [start, start + count) of a 16-bit mono PCM WAV as int16 little-endian bytes. */
function readPcm16Excerpt(file: string, start: number, count: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const header = Buffer.alloc(4096);
    const got = readSync(fd, header, 0, header.length, 0);
    if (header.toString('ascii', 0, 4) !== 'RIFF' || header.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${file}: not a RIFF/WAVE file`);
    let pos = 12;
    while (pos + 8 <= got) {
      const id = header.toString('ascii', pos, pos + 4);
      const size = header.readUInt32LE(pos + 4);
      if (id === 'fmt ') {
        const format = header.readUInt16LE(pos + 8);
        const channels = header.readUInt16LE(pos + 10);
        const bits = header.readUInt16LE(pos + 22);
        if (format !== 1 || channels !== 1 || bits !== 16) throw new Error(`${file}: expected mono 16-bit PCM`);
      } else if (id === 'data') {
        const bytes = Buffer.alloc(count * 2);
        readSync(fd, bytes, 0, bytes.length, pos + 8 + start * 2);
        return bytes;
      }
      pos += 8 + size + (size % 2);
    }
    throw new Error(`${file}: no data chunk in the first ${got} bytes`);
  } finally {
    closeSync(fd);
  }
}

const excerptSamples = new Map<string, Float32Array>();
for (const ex of fixture.excerpts) {
  const bytes = readPcm16Excerpt(path.join(devDataDir, ex.wav), ex.startSample, ex.numSamples);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== ex.sha256Int16Le) {
    throw new Error(`Dev audio ${ex.wav} [${ex.startSample}, +${ex.numSamples}) differs from the fixture's (sha256 ${sha}); rerun make_fbank_fixture.py.`);
  }
  const samples = new Float32Array(ex.numSamples);
  for (let i = 0; i < ex.numSamples; i++) samples[i] = bytes.readInt16LE(2 * i) / 32768;
  excerptSamples.set(ex.id, samples);
}

function decodeFloat32(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(4 * i);
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Streams `samples` through OnlineFbank in blocks of the given sizes (cycled), popping after every block. */
function streamed(samples: Float32Array, recipe: FbankRecipe, blockSizes: number[]): Float32Array {
  const online = new OnlineFbank(recipe);
  const parts: Float32Array[] = [];
  let maxBuffered = 0;
  for (let pos = 0, i = 0; pos < samples.length; i++) {
    const n = blockSizes[i % blockSizes.length];
    online.acceptWaveform(samples.subarray(pos, pos + n));
    pos += n;
    parts.push(online.popFrames());
    maxBuffered = Math.max(maxBuffered, online.numSamplesBuffered);
  }
  online.inputFinished();
  parts.push(online.popFrames());
  expect(online.popFrames().length).toBe(0);
  // Only what the next frames need stays buffered: about one window plus one block.
  expect(maxBuffered).toBeLessThanOrEqual(400 + Math.max(...blockSizes));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe.each(Object.keys(FBANK_RECIPES))('fbank recipe %s', (name) => {
  const recipe = getFbankRecipe(name);
  const reference = fixture.recipes[name];

  it('has a kaldi-native-fbank reference made with the same options', () => {
    expect(reference).toBeDefined();
    const opt = (key: string): string => {
      const m = new RegExp(`^${key}: (.*)$`, 'm').exec(reference.knfOptions);
      if (!m) throw new Error(`option ${key} missing from the fixture`);
      return m[1].trim();
    };
    expect(Number(opt('samp_freq'))).toBe(recipe.sampleRate);
    expect(Number(opt('frame_length_ms'))).toBe(recipe.frameLengthMs);
    expect(Number(opt('frame_shift_ms'))).toBe(recipe.frameShiftMs);
    expect(Number(opt('dither'))).toBe(0);
    expect(Number(opt('preemph_coeff'))).toBeCloseTo(recipe.preemphasisCoeff, 6);
    expect(opt('remove_dc_offset')).toBe(recipe.removeDcOffset ? '1' : '0');
    expect(opt('window_type')).toBe(recipe.window);
    expect(opt('snip_edges')).toBe(recipe.snipEdges ? '1' : '0');
    expect(Number(opt('num_bins'))).toBe(recipe.numMelBins);
    expect(Number(opt('low_freq'))).toBe(recipe.lowFreqHz);
    expect(Number(opt('high_freq'))).toBe(recipe.highFreqHz);
    expect(opt('use_energy')).toBe('0');
    expect(opt('use_power')).toBe('1');
    expect(opt('use_log_fbank')).toBe('1');
  });

  it(`matches kaldi-native-fbank on dev speech within ${TOLERANCE}`, () => {
    expect(reference.features.length).toBeGreaterThanOrEqual(2);
    for (const ref of reference.features) {
      const samples = excerptSamples.get(ref.excerpt)!.subarray(0, ref.numSamples);
      const ours = computeFbank(samples, recipe);
      expect(ref.numBins).toBe(recipe.numMelBins);
      expect(numFbankFrames(ref.numSamples, recipe)).toBe(ref.numFrames);
      expect(ours.length / recipe.numMelBins).toBe(ref.numFrames);
      expect(maxAbsDiff(ours, decodeFloat32(ref.float32LeBase64))).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('counts frames like kaldi-native-fbank, edge cases included', () => {
    const lengths = reference.frameCounts.map(([n]) => n);
    expect(lengths).toEqual(expect.arrayContaining([0, 1, 399, 400, 401]));
    for (const [numSamples, numFrames] of reference.frameCounts) {
      expect([numSamples, numFbankFrames(numSamples, recipe)]).toEqual([numSamples, numFrames]);
      expect(computeFbank(new Float32Array(numSamples), recipe).length).toBe(numFrames * recipe.numMelBins);
    }
  });

  it('streams in odd-sized blocks to exactly the offline result', () => {
    const a = excerptSamples.get(fixture.excerpts[0].id)!;
    const b = excerptSamples.get(fixture.excerpts[1].id)!;
    const signal = new Float32Array(a.length + b.length);
    signal.set(a);
    signal.set(b, a.length);
    const offline = computeFbank(signal, recipe);
    expect(streamed(signal, recipe, [1234])).toEqual(offline);
    expect(streamed(signal, recipe, [1, 7, 160, 399, 401, 2000])).toEqual(offline);
    for (const n of [80, 300, 401, 1001]) {
      const short = signal.subarray(0, n);
      expect(streamed(short, recipe, [7])).toEqual(computeFbank(short, recipe));
    }
  });

  it('reports ready frames only once their window is complete, and all of them after inputFinished', () => {
    const online = new OnlineFbank(recipe);
    online.acceptWaveform(new Float32Array(439));
    expect(online.numFramesReady).toBe(1); // snipEdges false: frame 1 spans [40, 440)
    online.acceptWaveform(new Float32Array(1));
    expect(online.numFramesReady).toBe(recipe.snipEdges ? 1 : 2);
    online.inputFinished();
    expect(online.numFramesReady).toBe(recipe.snipEdges ? 1 : 3);
    expect(online.popFrames().length).toBe(numFbankFrames(440, recipe) * recipe.numMelBins);
    expect(() => online.acceptWaveform(new Float32Array(1))).toThrow(InvalidArgumentError);
  });

  it('floors silence at log(FLT_EPSILON)', () => {
    const feats = computeFbank(new Float32Array(1600), recipe);
    expect(feats.length).toBeGreaterThan(0);
    for (const v of feats) expect(v).toBeCloseTo(Math.log(1.1920928955078125e-7), 5);
  });
});

describe('fbank framing', () => {
  const centred = getFbankRecipe('sherpa-onnx');
  const snipped = getFbankRecipe('kaldi-default');

  it('places frames like Kaldi FirstSampleOfFrame', () => {
    expect([0, 1, 2].map((f) => frameStartSample(f, centred))).toEqual([-120, 40, 200]);
    expect([0, 1, 2].map((f) => frameStartSample(f, snipped))).toEqual([0, 160, 320]);
  });

  it('counts frames for lengths around the frame boundaries', () => {
    expect(numFbankFrames(0, centred)).toBe(0);
    expect(numFbankFrames(79, centred)).toBe(0);
    expect(numFbankFrames(80, centred)).toBe(1);
    expect(numFbankFrames(16000 * 3600, centred)).toBe(360000);
    expect(numFbankFrames(0, snipped)).toBe(0);
    expect(numFbankFrames(399, snipped)).toBe(0);
    expect(numFbankFrames(400, snipped)).toBe(1);
    expect(numFbankFrames(16000 * 3600, snipped)).toBe(359998);
    expect(() => numFbankFrames(-1, centred)).toThrow(InvalidArgumentError);
    expect(() => numFbankFrames(1.5, centred)).toThrow(InvalidArgumentError);
  });
});

describe('getFbankRecipe', () => {
  it('returns the named recipe', () => {
    expect(getFbankRecipe('sherpa-onnx')).toBe(FBANK_RECIPES['sherpa-onnx']);
    expect(getFbankRecipe('kaldi-default').snipEdges).toBe(true);
  });

  it('rejects an unknown name and lists the known ones', () => {
    expect(() => getFbankRecipe('librosa')).toThrow(InvalidArgumentError);
    expect(() => getFbankRecipe('librosa')).toThrow(/"sherpa-onnx", "kaldi-default"/);
    expect(() => getFbankRecipe('toString')).toThrow(InvalidArgumentError);
  });

  it('rejects a recipe whose mel range is outside nyquist', () => {
    const bad: FbankRecipe = { ...FBANK_RECIPES['sherpa-onnx'], name: 'bad', highFreqHz: 9000 };
    expect(() => computeFbank(new Float32Array(800), bad)).toThrow(InvalidArgumentError);
  });
});
