import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { AbortedError, AppError, FileNotFoundError, InvalidArgumentError, InvalidAudioError, NoAudioStreamError } from '../server/src/common/errors';
import { devDataDir } from '../server/src/common/paths';
import { ProgressEvent } from '../server/src/common/progress';
import type { DiarizationConfigInput } from '../server/src/diarization/config';
import { Diarizer } from '../server/src/diarization/pipeline';
import { computeDer } from '../server/src/eval/der';
import { readRttmFile } from '../server/src/formats/rttm';
import { ffmpeg, tempDir } from './helpers/media';

const clips = path.join(devDataDir, 'diarization');
const sample = path.join(clips, 'pyannote_sample.wav');

async function reference(fileId: string) {
  return (await readRttmFile(path.join(clips, `${fileId}.rttm`))).get(fileId) ?? [];
}

describe('diarization pipeline on real speech', () => {
  let diarizer: Diarizer;
  const media = tempDir('pipeline');

  beforeAll(async () => {
    diarizer = await Diarizer.create({ threads: 2 });
    // 20 s of silence; a 3 s clip; a stereo call with one party per channel (each party silent while the other talks).
    ffmpeg(['-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono', '-t', '20', path.join(media.dir, 'silence.wav')]);
    ffmpeg(['-ss', '8', '-t', '3', '-i', sample, path.join(media.dir, 'three-seconds.wav')]);
    // The sample after 1.5 s of digital silence (exact zeros, as eval:robustness's silence+1.5s transform makes it),
    // and after 19801 samples (1.2376 s, not a whole number of 10 ms fbank frames).
    ffmpeg(['-i', sample, '-af', 'adelay=delays=1500:all=1', '-c:a', 'pcm_s16le', path.join(media.dir, 'late-start.wav')]);
    ffmpeg(['-i', sample, '-af', 'adelay=delays=19801S:all=1', '-c:a', 'pcm_s16le', path.join(media.dir, 'late-start-odd.wav')]);
    // 3 s of speech after 20 s of zeros (someone joins a call late).
    ffmpeg(['-i', path.join(media.dir, 'three-seconds.wav'), '-af', 'adelay=delays=20000:all=1', '-c:a', 'pcm_s16le', path.join(media.dir, 'joins-late.wav')]);
    // Telephone: 8 kHz μ-law WAV; conference room: 6 channels at 48 kHz; odd containers.
    ffmpeg(['-i', sample, '-ar', '8000', '-c:a', 'pcm_mulaw', path.join(media.dir, 'telephone.wav')]);
    ffmpeg(['-i', sample, '-af', 'pan=5.1|FL=c0|FR=c0|FC=c0|LFE=c0|BL=c0|BR=c0', '-ar', '48000', path.join(media.dir, 'six-channels.wav')]);
    ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=5', '-t', '2', '-pix_fmt', 'yuv420p', path.join(media.dir, 'no-audio.mp4')]);
    ffmpeg(['-i', sample, '-c:a', 'libmp3lame', '-b:a', '64k', path.join(media.dir, 'full.mp3')]);
    const mp3 = readFileSync(path.join(media.dir, 'full.mp3'));
    writeFileSync(path.join(media.dir, 'truncated.mp3'), mp3.subarray(0, Math.floor(mp3.length / 2)));
    writeFileSync(path.join(media.dir, 'empty.wav'), Buffer.alloc(0));
    writeFileSync(path.join(media.dir, 'text.wav'), 'this is not audio\n');
    ffmpeg(['-f', 'lavfi', '-i', 'anullsrc=r=16000:cl=mono', '-t', '0', path.join(media.dir, 'zero-length.wav')]);
    // One voice for 45 s: five utterances of one reader back to back.
    const reader = [0, 3, 5, 6, 9].map((n) => path.join(devDataDir, `verification/wav/ls-3005/3005-163389-000${n}.wav`));
    ffmpeg([
      ...reader.flatMap((f) => ['-i', f]),
      '-filter_complex',
      `${reader.map((_, i) => `[${i}:a]`).join('')}concat=n=${reader.length}:v=0:a=1[out]`,
      '-map',
      '[out]',
      path.join(media.dir, 'one-voice.wav'),
    ]);
    ffmpeg(['-i', path.join(media.dir, 'one-voice.wav'), '-t', '12', path.join(media.dir, 'twelve-seconds.wav')]);
    const a = path.join(devDataDir, 'verification/wav/ls-3005/3005-163389-0003.wav');
    const b = path.join(devDataDir, 'verification/wav/ls-2609/2609-156975-0007.wav');
    ffmpeg([
      '-i',
      a,
      '-i',
      b,
      '-filter_complex',
      '[0:a]atrim=0:8,apad=pad_dur=9[l];[1:a]atrim=0:8,adelay=9000[r];[l][r]join=inputs=2:channel_layout=stereo[out]',
      '-map',
      '[out]',
      '-t',
      '17',
      path.join(media.dir, 'call.wav'),
    ]);
  });

  afterAll(async () => {
    await diarizer.release();
    media.cleanup();
  });

  it.each(['segmentation', 'windows'] as const)('finds the two speakers of pyannote_sample with strategy %s (DER < 20 %%)', async (strategy) => {
    const result = await diarizer.diarizeFile(sample, { overrides: { strategy } });
    expect(result.fileId).toBe('pyannote_sample');
    expect(result.strategy).toBe(strategy);
    expect(result.numSpeakers).toBe(2);
    expect(result.speakers).toHaveLength(2);
    for (const s of result.speakers) {
      expect(s.centroid).toHaveLength(diarizer.embedder.dim);
      expect(Math.hypot(...s.centroid)).toBeCloseTo(1, 4);
    }
    const der = computeDer(await reference('pyannote_sample'), result.turns, { collarSec: 0.25 });
    expect(der.der).toBeLessThan(0.2);
    expect(result.timingsSec.segmentation).toBeGreaterThan(0);
    expect(result.timingsSec.embedding).toBeGreaterThan(0);
  });

  it('segments fewer chunks with the adaptive step and embeds fewer windows with steady-stretch interpolation where one voice talks, keeping the answers', async () => {
    const segment = jest.spyOn(diarizer.segmenter, 'segmentDecodings');
    const embed = jest.spyOn(diarizer.embedder, 'embedWindows');
    const work = async (file: string, overrides: DiarizationConfigInput) => {
      segment.mockClear();
      embed.mockClear();
      const result = await diarizer.diarizeFile(file, { overrides });
      const chunks = segment.mock.calls.reduce((n, [batch]) => n + batch.length, 0);
      const windows = embed.mock.calls.reduce((n, [, windows]) => n + windows.length, 0);
      return { result, chunks, windows };
    };
    const fastSettings = { segmentation: { adaptiveStep: true }, embedding: { interpolateSteady: true } };
    try {
      const oneVoice = path.join(media.dir, 'one-voice.wav');
      const plain = await work(oneVoice, {});
      const fast = await work(oneVoice, fastSettings);
      expect(fast.chunks).toBeLessThan(plain.chunks);
      expect(fast.windows).toBeLessThan(plain.windows);
      expect(plain.result.numSpeakers).toBe(1);
      expect(fast.result.numSpeakers).toBe(1);
      // Speech found by both differs little: the in-between chunks only add a second opinion.
      const speech = (r: typeof plain.result) => r.turns.reduce((sum, t) => sum + t.endSec - t.startSec, 0);
      expect(Math.abs(speech(fast.result) - speech(plain.result))).toBeLessThan(0.05 * speech(plain.result));
      // Two voices: still two speakers, DER as the test above asks.
      const two = await work(sample, fastSettings);
      expect(two.result.numSpeakers).toBe(2);
      expect(computeDer(await reference('pyannote_sample'), two.result.turns, { collarSec: 0.25 }).der).toBeLessThan(0.2);
      // 12 s: chunks at 0 and 5 s, the second an in-between one and the only one past 10 s; its speech is kept.
      const twelve = await work(path.join(media.dir, 'twelve-seconds.wav'), { segmentation: { adaptiveStep: true } });
      expect(twelve.chunks).toBe(2);
      expect(Math.max(...twelve.result.turns.map((t) => t.endSec))).toBeGreaterThan(11);
    } finally {
      segment.mockRestore();
      embed.mockRestore();
    }
  });

  it('keeps overlapped speech: the overlap-rich AMI clip gets simultaneous turns', async () => {
    const result = await diarizer.diarizeFile(path.join(clips, 'ami_EN2009b_0000-0030.wav'));
    const overlapSec = result.turns.reduce((sum, t, i) => {
      for (const u of result.turns.slice(i + 1))
        if (u.speaker !== t.speaker) sum += Math.max(0, Math.min(t.endSec, u.endSec) - Math.max(t.startSec, u.startSec));
      return sum;
    }, 0);
    expect(overlapSec).toBeGreaterThan(1);
  });

  it('labels more speech and overlap from the liberal decodings (turns.*Probability) without changing what is clustered', async () => {
    const file = sample;
    const hard = await diarizer.diarizeFile(file, {
      overrides: { strategy: 'windows', turns: { maxNonSpeechProbability: null, minOverlapProbability: null } },
    });
    const liberal = await diarizer.diarizeFile(file, {
      overrides: { strategy: 'windows', turns: { maxNonSpeechProbability: 0.9, minOverlapProbability: 0.2 } },
    });
    // The same windows are embedded and clustered: the same speakers with the same centroids.
    expect(liberal.speakers.map((s) => Array.from(s.centroid))).toEqual(hard.speakers.map((s) => Array.from(s.centroid)));
    // On a 10 ms grid: where anyone speaks, and where two do.
    const frames = Math.ceil(hard.durationSec * 100);
    const grid = (turns: typeof hard.turns): { speech: number; overlap: number; covers: (other: Uint8Array) => boolean; anyone: Uint8Array } => {
      const anyone = new Uint8Array(frames);
      const bySpeaker = new Map<string, Uint8Array>();
      for (const t of turns) {
        const own = bySpeaker.get(t.speaker) ?? new Uint8Array(frames);
        bySpeaker.set(t.speaker, own);
        for (let i = Math.round(t.startSec * 100); i < Math.min(frames, Math.round(t.endSec * 100)); i++) own[i] = 1;
      }
      let overlap = 0;
      for (let i = 0; i < frames; i++) {
        let n = 0;
        for (const own of bySpeaker.values()) n += own[i];
        anyone[i] = n > 0 ? 1 : 0;
        if (n >= 2) overlap++;
      }
      return { speech: anyone.reduce((a, b) => a + b, 0), overlap, anyone, covers: (other) => other.every((x, i) => !x || anyone[i] === 1) };
    };
    const before = grid(hard.turns);
    const after = grid(liberal.turns);
    expect(after.covers(before.anyone)).toBe(true);
    expect(after.speech).toBeGreaterThan(before.speech);
    expect(after.overlap).toBeGreaterThan(before.overlap);
  });

  it('honours numSpeakers, minSpeakers and maxSpeakers', async () => {
    const file = path.join(clips, 'pyaudioanalysis_diarizationExample.wav');
    expect((await diarizer.diarizeFile(file, { overrides: { clustering: { numSpeakers: 3 } } })).numSpeakers).toBe(3);
    expect((await diarizer.diarizeFile(file, { overrides: { clustering: { maxSpeakers: 2 } } })).numSpeakers).toBeLessThanOrEqual(2);
    expect((await diarizer.diarizeFile(sample, { overrides: { clustering: { minSpeakers: 3 } } })).numSpeakers).toBeGreaterThanOrEqual(3);
    await expect(diarizer.diarizeFile(sample, { overrides: { clustering: { minSpeakers: 4, maxSpeakers: 2 } } })).rejects.toThrow(InvalidArgumentError);
  });

  it('returns an empty result (not an error) for silence', async () => {
    const result = await diarizer.diarizeFile(path.join(media.dir, 'silence.wav'));
    expect(result.turns).toEqual([]);
    expect(result.numSpeakers).toBe(0);
    expect(result.durationSec).toBeCloseTo(20, 1);
  });

  it.each([
    ['windows', 'late-start.wav', 1.5, {}],
    ['segmentation', 'late-start.wav', 1.5, {}],
    // Not a whole number of 10 ms steps: exact only when anchored at the very first non-silent sample.
    ['windows', 'late-start-odd.wav', 19801 / 16000, { leadingSilence: { stepSamples: 1 } }],
  ] as const)(
    'gives a recording that starts with digital silence the same speakers and turns, shifted (strategy %s, %s)',
    async (strategy, name, leadSec, extra) => {
      const overrides: DiarizationConfigInput = { strategy, ...extra };
      const original = await diarizer.diarizeFile(sample, { overrides });
      const events: ProgressEvent[] = [];
      const late = await diarizer.diarizeFile(path.join(media.dir, name), { overrides, onProgress: (e) => events.push(e) });
      expect(late.durationSec).toBeCloseTo(original.durationSec + leadSec, 2);
      expect(late.numSpeakers).toBe(original.numSpeakers);
      expect(late.turns.map((t) => t.speaker)).toEqual(original.turns.map((t) => t.speaker));
      // Within a segmentation frame (~17 ms) of the original's turns shifted by the silence.
      late.turns.forEach((t, i) => {
        expect(Math.abs(t.startSec - (original.turns[i].startSec + leadSec))).toBeLessThan(0.017);
        expect(Math.abs(t.endSec - (original.turns[i].endSec + leadSec))).toBeLessThan(0.017);
      });
      late.speakers.forEach((s, i) => expect(s.speechSec).toBeCloseTo(original.speakers[i].speechSec, 1));
      // Progress spans the whole recording and ends full.
      const seg = events.filter((e) => e.stage === 'segmentation');
      expect(seg[seg.length - 1].completed).toBe(seg[seg.length - 1].total);
      expect(seg[0].completed).toBeGreaterThan(0);
    },
  );

  it('skips a long silent start: turns after it, the full duration, and progress that counts the silence as done', async () => {
    const events: ProgressEvent[] = [];
    const result = await diarizer.diarizeFile(path.join(media.dir, 'joins-late.wav'), { onProgress: (e) => events.push(e) });
    expect(result.durationSec).toBeCloseTo(23, 1);
    expect(result.turns.length).toBeGreaterThan(0);
    for (const t of result.turns) expect(t.startSec).toBeGreaterThanOrEqual(20);
    // 20 s is 4 chunk steps of 5 s: done before the first chunk of speech is.
    const seg = events.filter((e) => e.stage === 'segmentation');
    expect(seg[0].completed).toBeGreaterThanOrEqual(5);
    expect(seg[seg.length - 1].completed).toBe(seg[seg.length - 1].total);
  });

  it('without leadingSilence.trim analyses from the first sample: the 1.5 s copy is no longer the same answer', async () => {
    const overrides: DiarizationConfigInput = { leadingSilence: { trim: false } };
    const original = await diarizer.diarizeFile(sample, { overrides });
    const late = await diarizer.diarizeFile(path.join(media.dir, 'late-start.wav'), { overrides, fileId: original.fileId });
    expect(late.durationSec).toBeCloseTo(original.durationSec + 1.5, 2);
    const shifted = original.turns.map((t) => ({ ...t, startSec: t.startSec + 1.5, endSec: t.endSec + 1.5 }));
    // The grid lands elsewhere relative to the speech (7.8 % apart at collar 0 when measured).
    expect(computeDer(shifted, late.turns, { collarSec: 0 }).der).toBeGreaterThan(0.01);
  });

  it('diarizes a 3-second clip', async () => {
    const result = await diarizer.diarizeFile(path.join(media.dir, 'three-seconds.wav'));
    expect(result.durationSec).toBeCloseTo(3, 1);
    expect(result.numSpeakers).toBeGreaterThanOrEqual(1);
    for (const t of result.turns) expect(t.endSec).toBeLessThanOrEqual(3.001);
  });

  it('labels turns by channel with --channels separate', async () => {
    const file = path.join(media.dir, 'call.wav');
    const result = await diarizer.diarizeFile(file, { overrides: { channels: 'separate' } });
    expect(result.channels).toBe('separate');
    expect(result.speakers.map((s) => s.label).sort()).toEqual(['CHANNEL_0', 'CHANNEL_1']);
    const left = result.turns.filter((t) => t.speaker === 'CHANNEL_0');
    const right = result.turns.filter((t) => t.speaker === 'CHANNEL_1');
    // Party A talks in 0–8 s on the left, party B in 9–17 s on the right.
    expect(Math.min(...left.map((t) => t.startSec))).toBeLessThan(1);
    expect(Math.max(...left.map((t) => t.endSec))).toBeLessThan(9);
    expect(Math.min(...right.map((t) => t.startSec))).toBeGreaterThan(8.5);
    await expect(diarizer.diarizeFile(sample, { overrides: { channels: 'separate' } })).rejects.toThrow(/2\+ channels/);
  });

  it('diarizes 8 kHz telephone audio and 6-channel 48 kHz audio (downmixed)', async () => {
    const ref = await reference('pyannote_sample');
    for (const name of ['telephone.wav', 'six-channels.wav']) {
      const result = await diarizer.diarizeFile(path.join(media.dir, name));
      expect(result.durationSec).toBeCloseTo(30, 0);
      expect(computeDer(ref, result.turns, { collarSec: 0.25 }).der).toBeLessThan(0.3);
    }
  });

  it('level normalisation feeds copies 10 dB quieter or 6 dB louder to the models as the original: the same speakers and turns', async () => {
    // Float WAVs, so the copies differ by the gain alone (no 16-bit rounding; the sample peaks at -9.9 dBFS, so
    // +6 dB does not clip). Without normalisation the −10 / +6 dB copies are 4.0 % / 9.1 % (DER) apart from it.
    for (const [name, db] of [
      ['minus10.wav', -10],
      ['minus20.wav', -20],
      ['plus6.wav', 6],
    ] as const) {
      ffmpeg(['-i', sample, '-af', `volume=${db}dB`, '-c:a', 'pcm_f32le', path.join(media.dir, name)]);
    }
    const apart = async (a: string, b: string, overrides: DiarizationConfigInput) => {
      const x = await diarizer.diarizeFile(a, { overrides });
      const y = await diarizer.diarizeFile(b, { overrides, fileId: x.fileId });
      expect(y.numSpeakers).toBe(x.numSpeakers);
      // Float rounding of the scaled samples moves a boundary by a frame or so (INT8 activations).
      return computeDer(x.turns, y.turns, { collarSec: 0 }).der;
    };
    // On (raise only, to -30 dBFS): two copies below the target reach the models alike.
    expect(await apart(path.join(media.dir, 'minus10.wav'), path.join(media.dir, 'minus20.wav'), { level: { normalize: true } })).toBeLessThan(0.01);
    // Raising and lowering: louder and quieter copies alike.
    const both = { level: { normalize: true, maxCutDb: 20 } };
    expect(await apart(sample, path.join(media.dir, 'minus10.wav'), both)).toBeLessThan(0.01);
    expect(await apart(sample, path.join(media.dir, 'plus6.wav'), both)).toBeLessThan(0.01);
  });

  it('diarizes the readable half of a truncated mp3', async () => {
    const result = await diarizer.diarizeFile(path.join(media.dir, 'truncated.mp3'));
    expect(result.durationSec).toBeGreaterThan(10);
    expect(result.durationSec).toBeLessThan(20);
    expect(result.turns.length).toBeGreaterThan(0);
  });

  it.each([
    ['a path that does not exist', 'missing.wav', FileNotFoundError, /not found/],
    ['an empty file', 'empty.wav', InvalidAudioError, /empty \(0 bytes\)/],
    ['a text file renamed .wav', 'text.wav', InvalidAudioError, /not a recognised audio\/video file/],
    ['a video without audio', 'no-audio.mp4', NoAudioStreamError, /no audio stream/],
    ['zero-length audio', 'zero-length.wav', InvalidAudioError, /no audio samples/],
  ])('refuses %s with a clear error, and keeps working afterwards', async (_what, name, type, message) => {
    const failure = diarizer.diarizeFile(path.join(media.dir, name));
    await expect(failure).rejects.toThrow(type);
    await expect(failure).rejects.toThrow(message);
    await expect(failure).rejects.toBeInstanceOf(AppError);
    expect((await diarizer.diarizeFile(path.join(media.dir, 'three-seconds.wav'))).durationSec).toBeCloseTo(3, 1);
  });

  it('reports progress and honours an AbortSignal between batches', async () => {
    const events: ProgressEvent[] = [];
    await diarizer.diarizeFile(sample, { onProgress: (e) => events.push(e) });
    const seg = events.filter((e) => e.stage === 'segmentation');
    expect(seg.length).toBeGreaterThan(0);
    expect(seg[seg.length - 1].completed).toBe(seg[seg.length - 1].total);
    seg.forEach((e, i) => i > 0 && expect(e.completed).toBeGreaterThanOrEqual(seg[i - 1].completed));
    expect(events.some((e) => e.stage === 'clustering')).toBe(true);

    const controller = new AbortController();
    controller.abort();
    await expect(diarizer.diarizeFile(sample, { signal: controller.signal })).rejects.toThrow(AbortedError);
  });
});
