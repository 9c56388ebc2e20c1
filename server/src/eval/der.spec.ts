import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { devDataDir } from '../common/paths';
import { FileNotFoundError, InvalidArgumentError } from '../common/errors';
import type { SpeakerTurn } from '../diarization/types';
import { readRttmFile, writeRttm } from '../formats/rttm';
import { computeDer, poolDer, type DerResult } from './der';
import { formatDerTable, listDiarizationSet, readHypothesisDir, scoreSet } from './der-report';
import { readUemFile } from './uem';

const t = (speaker: string, startSec: number, endSec: number): SpeakerTurn => ({ speaker, startSec, endSec });

/** Seconds and rate, to 1e-9. */
function expectDer(result: DerResult, expected: { scored: number; missed: number; falseAlarm: number; confusion: number; der: number }): void {
  expect(result.scoredSpeechSec).toBeCloseTo(expected.scored, 9);
  expect(result.missedSec).toBeCloseTo(expected.missed, 9);
  expect(result.falseAlarmSec).toBeCloseTo(expected.falseAlarm, 9);
  expect(result.confusionSec).toBeCloseTo(expected.confusion, 9);
  expect(result.der).toBeCloseTo(expected.der, 9);
}

const noCollar = { collarSec: 0 };

describe('computeDer, hand-computed cases', () => {
  // Reference used by several cases: A speaks 0–10 s, B 10–20 s. Scored speech = 20 s.
  const ref = [t('A', 0, 10), t('B', 10, 20)];

  it('a perfect hypothesis scores 0', () => {
    const result = computeDer(ref, [t('A', 0, 10), t('B', 10, 20)], noCollar);
    expectDer(result, { scored: 20, missed: 0, falseAlarm: 0, confusion: 0, der: 0 });
    expect(result.mapping).toEqual({ A: 'A', B: 'B' });
  });

  it('an empty hypothesis misses everything: 20 / 20 = 100 %', () => {
    expectDer(computeDer(ref, [], noCollar), { scored: 20, missed: 20, falseAlarm: 0, confusion: 0, der: 1 });
  });

  it('a pure false alarm: X speaks 20–23 s where nobody does, 3 / 20 = 15 %', () => {
    const result = computeDer(ref, [t('A', 0, 10), t('B', 10, 20), t('X', 20, 23)], noCollar);
    expectDer(result, { scored: 20, missed: 0, falseAlarm: 3, confusion: 0, der: 0.15 });
  });

  it('permuted labels cost nothing thanks to the mapping', () => {
    const result = computeDer(ref, [t('spk1', 0, 10), t('spk0', 10, 20)], noCollar);
    expectDer(result, { scored: 20, missed: 0, falseAlarm: 0, confusion: 0, der: 0 });
    expect(result.mapping).toEqual({ spk1: 'A', spk0: 'B' });
  });

  it('confusion: h1 runs on 4 s into B', () => {
    // together: h1–A 10 s, h1–B 4 s, h2–B 6 s → h1→A, h2→B (16 s matched).
    // 10–14 s: ref B, hyp h1 (mapped to A) → confusion 4 s. DER = 4 / 20.
    const result = computeDer(ref, [t('h1', 0, 14), t('h2', 14, 20)], noCollar);
    expectDer(result, { scored: 20, missed: 0, falseAlarm: 0, confusion: 4, der: 0.2 });
    expect(result.mapping).toEqual({ h1: 'A', h2: 'B' });
  });

  it('overlap is scored: two reference speakers, one hypothesis speaker → the overlap is missed', () => {
    // ref A 0–10, B 5–10; hyp h 0–10.
    // 0–5: Nref 1, Nhyp 1, correct 1.  5–10: Nref 2, Nhyp 1 → miss 1 × 5 s, correct 1 (h→A).
    // scored speech = 5 × 1 + 5 × 2 = 15 s; DER = 5 / 15.
    const result = computeDer([t('A', 0, 10), t('B', 5, 10)], [t('h', 0, 10)], noCollar);
    expectDer(result, { scored: 15, missed: 5, falseAlarm: 0, confusion: 0, der: 5 / 15 });
    expect(result.mapping).toEqual({ h: 'A' });
  });

  it('an overlapping hypothesis against a single reference speaker is a false alarm', () => {
    // ref A 0–10; hyp h1 0–10, h2 0–10 → Nhyp 2, Nref 1 → FA 10 s; DER = 10 / 10.
    expectDer(computeDer([t('A', 0, 10)], [t('h1', 0, 10), t('h2', 0, 10)], noCollar), {
      scored: 10,
      missed: 0,
      falseAlarm: 10,
      confusion: 0,
      der: 1,
    });
  });

  describe('collar', () => {
    // Hypothesis boundary at 10.2 s instead of 10 s.
    const late = [t('A', 0, 10.2), t('B', 10.2, 20)];

    it('without collar a 0.2 s boundary offset is 0.2 s of confusion: 0.2 / 20 = 1 %', () => {
      expectDer(computeDer(ref, late, { collarSec: 0 }), { scored: 20, missed: 0, falseAlarm: 0, confusion: 0.2, der: 0.01 });
    });

    it('the default collar of 0.25 s forgives it', () => {
      // Scored timeline = [0, 20] minus ±0.25 around 0, 10, 10 and 20 = [0.25, 9.75] ∪ [10.25, 19.75] = 19 s.
      expectDer(computeDer(ref, late), { scored: 19, missed: 0, falseAlarm: 0, confusion: 0, der: 0 });
    });

    it('a 0.3 s offset leaves 0.05 s outside a 0.25 s collar', () => {
      // 10.25–10.3 s: ref B, hyp A → confusion 0.05 s out of 19 s.
      const result = computeDer(ref, [t('A', 0, 10.3), t('B', 10.3, 20)], { collarSec: 0.25 });
      expectDer(result, { scored: 19, missed: 0, falseAlarm: 0, confusion: 0.05, der: 0.05 / 19 });
    });

    it('is applied around reference boundaries only, so a hypothesis-only turn is still a false alarm', () => {
      // ref A 0–10; hyp A 0–10 plus X 15–16. Scored = [0.25, 9.75] ∪ [10.25, 16] (default UEM ends at 16 s).
      // scored speech 9.5 s; X is a false alarm of 1 s.
      expectDer(computeDer([t('A', 0, 10)], [t('A', 0, 10), t('X', 15, 16)]), {
        scored: 9.5,
        missed: 0,
        falseAlarm: 1,
        confusion: 0,
        der: 1 / 9.5,
      });
    });
  });

  it('skipOverlap drops the regions where the reference has 2+ speakers', () => {
    // ref A 0–10, B 5–10, C 12–14; hyp h 0–10, g 12–13.
    // All scored: 0–5 correct; 5–10 miss 5 s; 12–13 correct (g→C); 13–14 miss 1 s.
    //   scored speech 5 + 10 + 2 = 17 s, miss 6 s.
    // skipOverlap removes 5–10: scored speech 5 + 2 = 7 s, miss 1 s.
    const reference = [t('A', 0, 10), t('B', 5, 10), t('C', 12, 14)];
    const hypothesis = [t('h', 0, 10), t('g', 12, 13)];
    const all = computeDer(reference, hypothesis, { collarSec: 0 });
    expectDer(all, { scored: 17, missed: 6, falseAlarm: 0, confusion: 0, der: 6 / 17 });
    // Of those, 5–10 lies in reference overlap: 10 s of reference speech, 5 s missed.
    expect(all.overlap).toEqual({ scoredSpeechSec: 10, missedSec: 5, confusionSec: 0 });
    expect(computeDer(reference, hypothesis, { collarSec: 0, skipOverlap: true }).overlap).toEqual({ scoredSpeechSec: 0, missedSec: 0, confusionSec: 0 });
    expectDer(computeDer(reference, hypothesis, { collarSec: 0, skipOverlap: true }), {
      scored: 7,
      missed: 1,
      falseAlarm: 0,
      confusion: 0,
      der: 1 / 7,
    });
  });

  it('a UEM cuts the scored region', () => {
    // hyp labels everything A. Whole file: confusion 10 s of 20 s.
    // UEM [0, 12]: scored speech 12 s, confusion 10–12 s = 2 s; the false alarm at 25–30 s lies outside.
    const hypothesis = [t('A', 0, 20), t('X', 25, 30)];
    expectDer(computeDer(ref, hypothesis, noCollar), { scored: 20, missed: 0, falseAlarm: 5, confusion: 10, der: 15 / 20 });
    expectDer(computeDer(ref, hypothesis, { collarSec: 0, uem: [{ startSec: 0, endSec: 12 }] }), {
      scored: 12,
      missed: 0,
      falseAlarm: 0,
      confusion: 2,
      der: 2 / 12,
    });
    // Two regions, unsorted: [15, 20] and [0, 5] → 10 s of speech, confusion 15–20 = 5 s.
    const twoRegions = [
      { startSec: 15, endSec: 20 },
      { startSec: 0, endSec: 5 },
    ];
    expectDer(computeDer(ref, hypothesis, { collarSec: 0, uem: twoRegions }), { scored: 10, missed: 0, falseAlarm: 0, confusion: 5, der: 0.5 });
  });

  it('more hypothesis speakers than reference speakers: the extra one is unmapped and counts as confusion', () => {
    // ref A 0–10; hyp h1 0–6, h2 6–10 → h1→A (6 s beats 4 s); 6–10 s is confusion. DER = 4 / 10.
    const result = computeDer([t('A', 0, 10)], [t('h1', 0, 6), t('h2', 6, 10)], noCollar);
    expectDer(result, { scored: 10, missed: 0, falseAlarm: 0, confusion: 4, der: 0.4 });
    expect(result.mapping).toEqual({ h1: 'A' });
  });

  it('merges overlapping turns of the same speaker before scoring', () => {
    // hyp A 0–6 and A 4–10 are one turn 0–10, not 2 s of double speech.
    expectDer(computeDer([t('A', 0, 10)], [t('A', 0, 6), t('A', 4, 10)], noCollar), {
      scored: 10,
      missed: 0,
      falseAlarm: 0,
      confusion: 0,
      der: 0,
    });
  });

  it('the default UEM starts at 0 s, so hypothesis speech before the first reference turn is scored', () => {
    // ref A 5–10; hyp A 0–10 → false alarm 0–5 s. DER = 5 / 5.
    expectDer(computeDer([t('A', 5, 10)], [t('A', 0, 10)], noCollar), { scored: 5, missed: 0, falseAlarm: 5, confusion: 0, der: 1 });
  });

  it('nothing scored: 0 when the hypothesis is silent too, Infinity when it speaks', () => {
    expect(computeDer([], []).der).toBe(0);
    expect(computeDer([], [t('X', 0, 1)], noCollar).der).toBe(Number.POSITIVE_INFINITY);
  });

  it('rejects a negative collar and a turn that ends before it starts', () => {
    expect(() => computeDer(ref, ref, { collarSec: -0.1 })).toThrow(InvalidArgumentError);
    expect(() => computeDer(ref, [t('A', 5, 4)])).toThrow(/hypothesis turn of "A"/);
  });
});

describe('poolDer', () => {
  it('sums durations: (4 + 5) / (20 + 15)', () => {
    const confusion = computeDer([t('A', 0, 10), t('B', 10, 20)], [t('h1', 0, 14), t('h2', 14, 20)], noCollar);
    const overlap = computeDer([t('A', 0, 10), t('B', 5, 10)], [t('h', 0, 10)], noCollar);
    const pooled = poolDer([confusion, overlap]);
    expectDer(pooled, { scored: 35, missed: 5, falseAlarm: 0, confusion: 4, der: 9 / 35 });
    expect(pooled.mapping).toEqual({});
    expect(poolDer([]).der).toBe(0);
  });
});

/**
 * The hypothesis the pyannote.metrics cross-check scored: the reference, in file order, with
 * start +0.2 s (even index) or −0.1 s (odd), end −0.3 s (index % 3 == 0) or +0.15 s, turns with index % 7 == 6
 * dropped, index % 4 == 1 relabelled to the next speaker (sorted labels), and a false alarm "x_extra" 0.5–2.0 s.
 */
function perturb(reference: readonly SpeakerTurn[]): SpeakerTurn[] {
  const speakers = [...new Set(reference.map((r) => r.speaker))].sort();
  const out: SpeakerTurn[] = [];
  reference.forEach((turn, i) => {
    if (i % 7 === 6) return;
    const startSec = turn.startSec + (i % 2 === 0 ? 0.2 : -0.1);
    const endSec = turn.endSec + (i % 3 === 0 ? -0.3 : 0.15);
    if (endSec <= startSec) return;
    const speaker = i % 4 === 1 ? speakers[(speakers.indexOf(turn.speaker) + 1) % speakers.length] : turn.speaker;
    out.push({ speaker: `x_${speaker}`, startSec, endSec });
  });
  out.push({ speaker: 'x_extra', startSec: 0.5, endSec: 2.0 });
  return out;
}

describe('computeDer against pyannote.metrics 4.2.0 on perturbed dev references', () => {
  // DiarizationErrorRate(collar=2 * collarSec, skip_overlap)(ref, hyp.support(), uem=all.uem region), detailed.
  // [collarSec, skipOverlap, total, missed, false alarm, confusion, DER]
  type Row = [number, boolean, number, number, number, number, number];
  const pyannote: Record<string, Row[]> = {
    'ami_EN2001a_0000-0030': [
      [0, false, 20.96, 5.15, 2.5, 3.97, 0.5543893129770993],
      [0, true, 14.81, 2.15, 2.5, 3.82, 0.5719108710330856],
      [0.25, false, 11.32, 1.15, 1.5, 2.38, 0.44434628975265006],
      [0.25, true, 10.0, 0.49, 1.5, 2.38, 0.43699999999999983],
    ],
    pyannote_sample: [
      [0, false, 24.35, 5.53, 2.0, 5.42, 0.5318275154004105],
      [0, true, 20.57, 3.7, 2.0, 5.42, 0.5405930967428292],
      [0.25, false, 16.34, 2.6, 1.5, 3.94, 0.49204406364749087],
      [0.25, true, 16.04, 2.45, 1.5, 3.94, 0.4918952618453867],
    ],
    'ami_EN2002a_0184-0214_farfield': [
      [0, false, 41.67, 11.88, 1.44, 3.9, 0.41324694024478015],
      [0, true, 18.24, 7.14, 1.2, 0.0, 0.457236842105263],
      [0.25, false, 26.75, 8.79, 0.0, 1.29, 0.37682242990654213],
      [0.25, true, 14.83, 6.0, 0.0, 0.0, 0.40458530006743093],
    ],
  };
  const dir = path.join(devDataDir, 'diarization');

  it.each(Object.keys(pyannote))('%s', async (fileId) => {
    const reference = (await readRttmFile(path.join(dir, `${fileId}.rttm`))).get(fileId) ?? [];
    const uem = (await readUemFile(path.join(dir, 'all.uem'))).get(fileId);
    expect(uem).toBeDefined();
    const hypothesis = perturb(reference);
    for (const [collarSec, skipOverlap, total, missed, falseAlarm, confusion, der] of pyannote[fileId]) {
      const result = computeDer(reference, hypothesis, { collarSec, skipOverlap, uem });
      expectDer(result, { scored: total, missed, falseAlarm, confusion, der });
    }
  });
});

describe('der-report', () => {
  const dir = path.join(devDataDir, 'diarization');

  it('lists the dev set: 15 recordings, each with its RTTM and all.uem region', async () => {
    const items = await listDiarizationSet(dir);
    expect(items).toHaveLength(15);
    expect(items.map((i) => i.fileId)).toContain('pyannote_sample');
    const sample = items.find((i) => i.fileId === 'pyannote_sample');
    expect(sample?.wavPath).toBe(path.join(dir, 'pyannote_sample.wav'));
    expect(sample?.rttmPath).toBe(path.join(dir, 'pyannote_sample.rttm'));
    expect(sample?.uem).toEqual([{ startSec: 0, endSec: 30 }]);
    expect(items.every((i) => i.uem !== undefined)).toBe(true);
  });

  it('fails clearly on a folder without recordings and on a missing folder', async () => {
    await expect(listDiarizationSet(path.join(dir, 'alt_annotations'))).rejects.toThrow(/No recording to score/);
    await expect(listDiarizationSet(path.join(dir, 'missing'))).rejects.toThrow(FileNotFoundError);
  });

  it('scores the references against themselves as 0 and pools the per-file results', async () => {
    const items = (await listDiarizationSet(dir)).slice(0, 3);
    const seen: string[] = [];
    const { perFile, total } = await scoreSet(items, async (item) => (await readRttmFile(item.rttmPath)).get(item.fileId) ?? [], {
      collarSec: 0,
      skipOverlap: false,
      onFileScored: (fileId) => seen.push(fileId),
    });
    expect(seen).toEqual(items.map((i) => i.fileId));
    expect(perFile.map((f) => f.result.der)).toEqual([0, 0, 0]);
    expect(total.der).toBe(0);
    expect(total.scoredSpeechSec).toBeCloseTo(
      perFile.reduce((s, f) => s + f.result.scoredSpeechSec, 0),
      9,
    );
  });

  it('uses the UEM given in the options over the item one', async () => {
    const items = (await listDiarizationSet(dir)).filter((i) => i.fileId === 'pyannote_sample');
    // Hypothesis: nobody speaks; the UEM keeps 6.69–7.12 s (speaker90 alone) → 0.43 s missed of 0.43 s.
    const uem = new Map([['pyannote_sample', [{ startSec: 6.69, endSec: 7.12 }]]]);
    const { total } = await scoreSet(items, async () => [], { collarSec: 0, skipOverlap: false, uem });
    expect(total.scoredSpeechSec).toBeCloseTo(0.43, 9);
    expect(total.der).toBeCloseTo(1, 9);
  });

  describe('readHypothesisDir', () => {
    let hypDir: string;
    beforeAll(() => {
      hypDir = mkdtempSync(path.join(tmpdir(), 'der-hyp-'));
      writeFileSync(path.join(hypDir, 'rec1.rttm'), writeRttm('rec1', [t('A', 0, 1)]));
      writeFileSync(path.join(hypDir, 'silent.rttm'), '');
      writeFileSync(path.join(hypDir, 'all.rttm'), writeRttm('rec2', [t('B', 1, 2)]) + writeRttm('rec3', [t('C', 2, 3), t('D', 3, 4)]));
    });
    afterAll(() => rmSync(hypDir, { recursive: true, force: true }));

    it('reads <fileId>.rttm, or finds the file-id in any RTTM of the folder', async () => {
      expect(await readHypothesisDir(hypDir, 'rec1')).toEqual([t('A', 0, 1)]);
      expect(await readHypothesisDir(hypDir, 'silent')).toEqual([]);
      expect(await readHypothesisDir(hypDir, 'rec3')).toEqual([t('C', 2, 3), t('D', 3, 4)]);
      await expect(readHypothesisDir(hypDir, 'rec9')).rejects.toThrow(/No hypothesis for "rec9"/);
    });
  });

  it('formats per-file rows and a pooled TOTAL row in percent of scored speech', () => {
    // a: 4 s confusion of 20 s; b: 5 s missed of 15 s; pooled 9 / 35 = 25.71 %.
    const a = computeDer([t('A', 0, 10), t('B', 10, 20)], [t('h1', 0, 14), t('h2', 14, 20)], noCollar);
    const b = computeDer([t('A', 0, 10), t('B', 5, 10)], [t('h', 0, 10)], noCollar);
    const table = formatDerTable(
      [
        { fileId: 'a', result: a },
        { fileId: 'b', result: b },
      ],
      poolDer([a, b]),
    );
    const lines = table.split('\n');
    expect(lines[0].split(/\s+/)).toEqual(['file', 'DER', '%', 'miss', '%', 'ovl', 'miss', 'FA', '%', 'conf', '%', 'scored', 's', 'ovl', 's']);
    expect(lines[2].split(/\s+/)).toEqual(['a', '20.00', '0.00', '0.00', '0.00', '20.00', '20.00', '0.00']);
    // b's miss is all in its 5 s of overlap (10 s of reference speech there).
    expect(lines[3].split(/\s+/)).toEqual(['b', '33.33', '33.33', '33.33', '0.00', '0.00', '15.00', '10.00']);
    expect(lines[5].split(/\s+/)).toEqual(['TOTAL', '25.71', '14.29', '14.29', '0.00', '11.43', '35.00', '10.00']);
  });
});
