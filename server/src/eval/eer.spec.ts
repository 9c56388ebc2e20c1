import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { devDataDir, repoRoot } from '../common/paths';
import { InvalidArgumentError } from '../common/errors';
import { computeEer, computeMinDcf } from './eer';
import { formatEerReport, scoreTrials } from './eer-report';
import { parseTrials, readTrialsFile, type Trial } from './trials';

/** scores of targets then non-targets, with labels to match. */
function trials(targets: number[], nonTargets: number[]): { scores: number[]; labels: number[] } {
  return {
    scores: [...targets, ...nonTargets],
    labels: [...targets.map(() => 1), ...nonTargets.map(() => 0)],
  };
}

describe('computeEer, hand-computed', () => {
  it('perfectly separated scores: EER 0 at the lowest target score', () => {
    // ROC (FAR, TAR): (0,0) → 0.9 (0,½) → 0.8 (0,1): FRR = 0 = FAR at threshold 0.8.
    const { scores, labels } = trials([0.9, 0.8], [0.3, 0.1]);
    expect(computeEer(scores, labels)).toEqual({ eer: 0, thresholdScore: 0.8 });
  });

  it('inverted scores: EER 100 %', () => {
    // (0,0) → 0.9 (½,0) → 0.8 (1,0): FAR = 1 = FRR at threshold 0.8.
    const { scores, labels } = trials([0.1, 0.2], [0.8, 0.9]);
    expect(computeEer(scores, labels)).toEqual({ eer: 1, thresholdScore: 0.8 });
  });

  it('interpolates along a diagonal made by a tie', () => {
    // targets 0.9, 0.5; non-targets 0.5, 0.1. ROC: (0,0) → 0.9 (0,½) → 0.5 (½,1) [tie: both accepted] → 0.1 (1,1).
    // On (0,½)→(½,1): FRR − FAR = ½ − 2s for s ∈ [0,½] of the way → s = ¼: EER = 0.25,
    // threshold halfway between 0.9 and 0.5 = 0.7.
    const { scores, labels } = trials([0.9, 0.5], [0.5, 0.1]);
    const { eer, thresholdScore } = computeEer(scores, labels);
    expect(eer).toBeCloseTo(0.25, 12);
    expect(thresholdScore).toBeCloseTo(0.7, 12);
  });

  it('crosses on a vertical step with one target and three non-targets', () => {
    // target 0.5; non-targets 0.9, 0.4, 0.1. ROC: (0,0) → 0.9 (⅓,0) → 0.5 (⅓,1) → ...
    // FRR − FAR on (⅓,0)→(⅓,1): ⅔ − s → s = ⅔: EER = FAR = ⅓; threshold 0.9 + ⅔·(0.5 − 0.9) = 0.6333…
    const { scores, labels } = trials([0.5], [0.9, 0.4, 0.1]);
    const { eer, thresholdScore } = computeEer(scores, labels);
    expect(eer).toBeCloseTo(1 / 3, 12);
    expect(thresholdScore).toBeCloseTo(0.9 - (2 / 3) * 0.4, 12);
  });

  it('does not depend on trial order', () => {
    const a = computeEer([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]);
    const b = computeEer([0.1, 0.5, 0.9, 0.5], [0, 0, 1, 1]);
    expect(b.eer).toBeCloseTo(a.eer, 12);
    expect(b.thresholdScore).toBeCloseTo(a.thresholdScore, 12);
  });

  it('rejects bad input', () => {
    expect(() => computeEer([0.1, 0.2], [1])).toThrow(InvalidArgumentError);
    expect(() => computeEer([0.1, 0.2], [1, 1])).toThrow(/both target and non-target/);
    expect(() => computeEer([0.1, 0.2], [1, 2])).toThrow(/labels must be 1/);
    expect(() => computeEer([0.1, Number.NaN], [1, 0])).toThrow(/finite/);
  });
});

describe('computeMinDcf, hand-computed', () => {
  it('is 0 for separated scores and 1 for inverted ones', () => {
    const separated = trials([0.9, 0.8], [0.3, 0.1]);
    expect(computeMinDcf(separated.scores, separated.labels)).toBe(0);
    // Inverted: every threshold is no better than rejecting all (cost cMiss·pTarget = the normaliser).
    const inverted = trials([0.1, 0.2], [0.8, 0.9]);
    expect(computeMinDcf(inverted.scores, inverted.labels)).toBeCloseTo(1, 12);
  });

  it('one target, three non-targets', () => {
    // ROC points (FAR, FRR): (0,1) (⅓,1) (⅓,0) (⅔,0) (1,0).
    // pTarget 0.5: costs 0.5, 0.667, 0.167, 0.333, 0.5 → min ⅙, normalised by min(0.5, 0.5) → ⅓.
    // pTarget 0.01: costs 0.01, …, ⅓·0.99 → min 0.01 (reject all) / 0.01 → 1.
    const { scores, labels } = trials([0.5], [0.9, 0.4, 0.1]);
    expect(computeMinDcf(scores, labels, { pTarget: 0.5 })).toBeCloseTo(1 / 3, 12);
    expect(computeMinDcf(scores, labels)).toBeCloseTo(1, 12);
  });

  it('weights misses by cMiss', () => {
    // Same trials, pTarget 0.5, cMiss 10: costs 5, 5.167, 0.167, 0.333, 0.5 → min ⅙ / min(5, 0.5) = ⅓.
    // cFa 10 instead: costs 0.5, 2.167, 1.667, 3.333, 5 → min 0.5 / min(0.5, 5) = 1.
    const { scores, labels } = trials([0.5], [0.9, 0.4, 0.1]);
    expect(computeMinDcf(scores, labels, { pTarget: 0.5, cMiss: 10 })).toBeCloseTo(1 / 3, 12);
    expect(computeMinDcf(scores, labels, { pTarget: 0.5, cFa: 10 })).toBeCloseTo(1, 12);
  });

  it('rejects priors and costs out of range', () => {
    expect(() => computeMinDcf([0.1, 0.2], [1, 0], { pTarget: 0 })).toThrow(InvalidArgumentError);
    expect(() => computeMinDcf([0.1, 0.2], [1, 0], { cFa: -1 })).toThrow(InvalidArgumentError);
  });
});

describe('EER and minDCF against the Python reference (test/fixtures/eval/make_eer_fixture.py)', () => {
  // 60 target + 240 non-target scores, seed 20240611, rounded to 2 decimals so ties occur.
  // EER from sklearn roc_curve + brentq on the interpolated ROC; minDCF from numpy.
  interface Fixture {
    scores: number[];
    labels: number[];
    expected: Record<'eer' | 'thresholdScore' | 'minDcf_p0.01' | 'minDcf_p0.05' | 'minDcf_p0.05_cMiss10', number>;
  }
  const fixture = JSON.parse(readFileSync(path.join(repoRoot, 'test', 'fixtures', 'eval', 'eer_fixture.json'), 'utf8')) as Fixture;

  it('matches', () => {
    expect(fixture.scores).toHaveLength(300);
    const { eer, thresholdScore } = computeEer(fixture.scores, fixture.labels);
    expect(eer).toBeCloseTo(fixture.expected.eer, 9); // 0.091666…
    expect(thresholdScore).toBeCloseTo(fixture.expected.thresholdScore, 9); // 0.385
    expect(computeMinDcf(fixture.scores, fixture.labels)).toBeCloseTo(fixture.expected['minDcf_p0.01'], 9); // 0.45
    expect(computeMinDcf(fixture.scores, fixture.labels, { pTarget: 0.05 })).toBeCloseTo(fixture.expected['minDcf_p0.05'], 9);
    expect(computeMinDcf(fixture.scores, fixture.labels, { pTarget: 0.05, cMiss: 10 })).toBeCloseTo(fixture.expected['minDcf_p0.05_cMiss10'], 9);
  });
});

describe('trials', () => {
  it('resolves paths against the trial list folder, in both layouts', () => {
    const base = path.join(path.sep, 'data', 'verification');
    expect(parseTrials('1 wav/a/1.wav wav/a/2.wav\n\n0 wav/a/1.wav wav/b/1.wav\n', base)).toEqual([
      { label: 1, enrollPath: path.join(base, 'wav/a/1.wav'), testPath: path.join(base, 'wav/a/2.wav') },
      { label: 0, enrollPath: path.join(base, 'wav/a/1.wav'), testPath: path.join(base, 'wav/b/1.wav') },
    ]);
    expect(parseTrials('x.wav y.wav nontarget', base)).toEqual([{ label: 0, enrollPath: path.join(base, 'x.wav'), testPath: path.join(base, 'y.wav') }]);
  });

  it('names the line of a malformed trial', () => {
    expect(() => parseTrials('1 a.wav b.wav\n2 a.wav c.wav', '/x', 'trials.txt')).toThrow(/trials\.txt:2/);
    expect(() => parseTrials('1 a.wav', '/x', 'trials.txt')).toThrow(InvalidArgumentError);
  });

  it('reads the dev trial list: 300 target + 7203 non-target trials over existing files', async () => {
    const trialsPath = path.join(devDataDir, 'verification', 'trials.txt');
    const list = await readTrialsFile(trialsPath);
    expect(list).toHaveLength(7503);
    expect(list.filter((x) => x.label === 1)).toHaveLength(300);
    expect(existsSync(list[0].enrollPath)).toBe(true);
    expect(path.dirname(path.dirname(path.dirname(list[0].enrollPath)))).toBe(path.dirname(trialsPath));
  });
});

describe('scoreTrials', () => {
  // Three files; a and a2 point the same way (same speaker), b is orthogonal.
  const vectors: Record<string, number[]> = { '/a': [1, 0], '/a2': [2, 0.0001], '/b': [0, 3] };
  const list: Trial[] = [
    { label: 1, enrollPath: '/a', testPath: '/a2' },
    { label: 0, enrollPath: '/a', testPath: '/b' },
    { label: 0, enrollPath: '/a2', testPath: '/b' },
  ];

  it('embeds each distinct file once and scores by cosine similarity', async () => {
    const calls: string[] = [];
    const result = await scoreTrials(list, async (p) => {
      calls.push(p);
      return Float32Array.from(vectors[p]);
    });
    expect(calls).toEqual(['/a', '/a2', '/b']);
    // Target cosine ≈ 1, non-target cosines ≈ 0: separated, so EER 0 and minDCF 0.
    expect(result).toMatchObject({ eer: 0, minDcf: 0, pTarget: 0.01, numTrials: 3, numTargets: 1 });
    expect(result.thresholdScore).toBeCloseTo(1, 6);
    expect(formatEerReport(result)).toMatch(/EER\s+0\.00 %[\s\S]*minDCF\s+0\.0000/);
  });

  it('rejects embeddings of different sizes and zero embeddings', async () => {
    await expect(scoreTrials(list, async (p) => new Float32Array(p === '/b' ? 3 : 2).fill(1))).rejects.toThrow(/different sizes/);
    await expect(scoreTrials(list, async () => new Float32Array(2))).rejects.toThrow(/zero embedding/);
  });
});
