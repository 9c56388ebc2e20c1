import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { buildDenseSpeech, denseReference, globalSpeakerLabel, planDensePieces, type DenseSource } from '../server/bench/dense-speech';
import { readWavMono16, wavHeaderMono16 } from '../server/bench/wav';
import { parseRttm } from '../server/src/formats/rttm';

describe('dense speech plan', () => {
  const durations = [{ durationSec: 30 }, { durationSec: 5 }, { durationSec: 12.5 }];

  it('fills the target exactly with back-to-back pieces, each round a permutation of the sources', () => {
    const pieces = planDensePieces(durations, 100, 1);
    let offset = 0;
    for (const p of pieces) {
      expect(p.offsetSec).toBeCloseTo(offset, 9);
      offset += p.takeSec;
    }
    expect(offset).toBeCloseTo(100, 9);
    // Full rounds take every source once; only the very last piece is cut.
    const round1 = pieces.slice(0, 3).map((p) => p.source);
    expect([...round1].sort()).toEqual([0, 1, 2]);
    pieces.slice(0, -1).forEach((p) => expect(p.takeSec).toBe(durations[p.source].durationSec));
    expect(pieces[pieces.length - 1].takeSec).toBeLessThanOrEqual(durations[pieces[pieces.length - 1].source].durationSec);
    pieces.forEach((p) => expect(Math.abs(p.gainDb)).toBeLessThanOrEqual(3));
  });

  it('shuffles rounds by seed and is reproducible', () => {
    const orders = (seed: number): number[] => planDensePieces(durations, 2000, seed).map((p) => p.source);
    expect(orders(1)).toEqual(orders(1));
    expect(orders(1)).not.toEqual(orders(2));
    // Not the same order every round (the point: chunk boundaries fall elsewhere each time).
    const rounds = new Set<string>();
    const o = orders(1);
    for (let r = 0; r + 3 <= o.length; r += 3) rounds.add(o.slice(r, r + 3).join(','));
    expect(rounds.size).toBeGreaterThan(1);
  });

  it('rejects sources without audio', () => {
    expect(() => planDensePieces([], 10, 1)).toThrow(/at least one source/);
    expect(() => planDensePieces([{ durationSec: 0 }], 10, 1)).toThrow(/at least one source/);
  });
});

describe('dense speech reference', () => {
  it('shifts each piece’s turns to its offset and cuts turns at the piece’s end', () => {
    const sources = [
      {
        turns: [
          { speaker: 'A', startSec: 1, endSec: 3 },
          { speaker: 'B', startSec: 2, endSec: 9 },
        ],
      },
      { turns: [{ speaker: 'utt/x', startSec: 0, endSec: 4 }] },
    ];
    const pieces = [
      { source: 1, offsetSec: 0, takeSec: 4, gainDb: 0 },
      { source: 0, offsetSec: 4, takeSec: 10, gainDb: 0 },
      { source: 0, offsetSec: 14, takeSec: 2.5, gainDb: 0 }, // cut: B's turn ends at 2.5, not 9
      { source: 0, offsetSec: 16.5, takeSec: 0.5, gainDb: 0 }, // cut before any turn starts
    ];
    expect(denseReference(sources, pieces)).toEqual([
      { speaker: 'utt/x', startSec: 0, endSec: 4 },
      { speaker: 'A', startSec: 5, endSec: 7 },
      { speaker: 'B', startSec: 6, endSec: 13 },
      { speaker: 'A', startSec: 15, endSec: 17 - 0.5 },
      { speaker: 'B', startSec: 16, endSec: 16.5 },
    ]);
  });

  it('keeps AMI participant ids global and scopes other labels to their recording', () => {
    expect(globalSpeakerLabel('ami_EN2005a', 'FEE083')).toBe('FEE083');
    expect(globalSpeakerLabel('ami_EN2001a', 'MEO069')).toBe('MEO069');
    expect(globalSpeakerLabel('pyannote_sample', 'speaker1')).toBe('pyannote_sample/speaker1');
    expect(globalSpeakerLabel('x', 'FEE08')).toBe('x/FEE08');
  });
});

describe('buildDenseSpeech', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'dense-test-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function writeTone(name: string, seconds: number, amplitude: number): string {
    const n = Math.round(seconds * 16000);
    const data = Buffer.alloc(n * 2);
    for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * 220 * i) / 16000)), 2 * i);
    const file = path.join(dir, name);
    writeFileSync(file, Buffer.concat([wavHeaderMono16(n, 16000), data]));
    return file;
  }

  it('writes a WAV of exactly the asked length and its RTTM, with no two copies of a source alike', () => {
    const sources: DenseSource[] = [
      { id: 'clip', wavPath: writeTone('clip.wav', 3, 0.1), durationSec: 3, turns: [{ speaker: 'clip/s1', startSec: 0.5, endSec: 2.5 }] },
      { id: 'utt', wavPath: writeTone('utt.wav', 2, 0.6), durationSec: 2, turns: [{ speaker: 'utt/u', startSec: 0, endSec: 2 }] },
    ];
    const dense = buildDenseSpeech({ minutes: 0.25, seed: 3, dir, sources });
    expect(dense.durationSec).toBe(15);
    const { samples } = readWavMono16(dense.wavPath);
    expect(samples.length).toBe(15 * 16000);
    const reference = parseRttm(readFileSync(dense.rttmPath, 'utf8')).get(dense.fileId)!;
    // 3 rounds of 5 s: each round has clip/s1 for 2 s and utt/u for 2 s.
    const total = (speaker: string): number => reference.filter((t) => t.speaker === speaker).reduce((s, t) => s + t.endSec - t.startSec, 0);
    expect(total('clip/s1')).toBeCloseTo(6, 3);
    expect(total('utt/u')).toBeCloseTo(6, 3);
    expect(dense.numSpeakers).toBe(2);
    expect(dense.speechSec).toBeCloseTo(12, 3);
    // Every reference turn of utt/u lies over audio of the louder tone: the offsets match the samples.
    for (const t of reference.filter((r) => r.speaker === 'utt/u')) {
      const from = Math.round(t.startSec * 16000);
      const peak = samples.subarray(from, from + 1600).reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(peak).toBeGreaterThan(0.6 * 10 ** (-3 / 20) - 0.01);
    }
    // The copies of the clip differ (gain per piece): a content cache finds nothing to reuse.
    const clipStarts = reference.filter((t) => t.speaker === 'clip/s1').map((t) => Math.round((t.startSec - 0.5) * 16000));
    const copies = clipStarts.map((s) => samples.subarray(s + 8000, s + 8100).join(','));
    expect(new Set(copies).size).toBe(copies.length);
  });
});
