import { AbortedError } from '../common/errors';
import { reduceToRepresentatives } from './reduce';
import { noisyGroups } from './synthetic';

describe('reduceToRepresentatives', () => {
  const dim = 32;
  const { embeddings, truth } = noisyGroups({ sizes: [1500, 1000, 700, 300], dim, noise: 0.6, seed: 11, order: 'shuffled' });
  const n = truth.length;
  const weights = Float32Array.from({ length: n }, (_, i) => 0.5 + (i % 4));

  it('stays within the budget and keeps each representative within one speaker', () => {
    const r = reduceToRepresentatives(embeddings, dim, undefined, { maxRepresentatives: 200 });
    const m = r.weights.length;
    expect(m).toBeLessThanOrEqual(200);
    expect(m).toBeGreaterThanOrEqual(150); // 75% of the budget: time-stride seeds
    const owner = new Int32Array(m).fill(-1);
    for (let i = 0; i < n; i++) {
      const rep = r.assignment[i];
      expect(rep).toBeGreaterThanOrEqual(0);
      expect(rep).toBeLessThan(m);
      if (owner[rep] === -1) owner[rep] = truth[i];
      expect(owner[rep]).toBe(truth[i]);
    }
  });

  it('returns the weighted mean and total weight of the members of each representative', () => {
    const r = reduceToRepresentatives(embeddings, dim, weights, { maxRepresentatives: 150 });
    const m = r.weights.length;
    const sums = new Float64Array(m * dim);
    const mass = new Float64Array(m);
    for (let i = 0; i < n; i++) {
      const rep = r.assignment[i];
      mass[rep] += weights[i];
      for (let d = 0; d < dim; d++) sums[rep * dim + d] += weights[i] * embeddings[i * dim + d];
    }
    let total = 0;
    for (let rep = 0; rep < m; rep++) {
      expect(r.weights[rep]).toBeCloseTo(mass[rep], 3);
      total += r.weights[rep];
      for (let d = 0; d < dim; d++) expect(r.means[rep * dim + d]).toBeCloseTo(sums[rep * dim + d] / mass[rep], 5);
    }
    expect(total).toBeCloseTo(
      weights.reduce((a, b) => a + b, 0),
      0,
    );
  });

  it('seeds every s-th embedding and opens a representative for a direction no seed covers', () => {
    // e1 e2 e1 e3 e2 e3 with a budget of 4: seeds at rows 0, 2, 4; e3 is novel.
    const rows = Float32Array.from([1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1]);
    const r = reduceToRepresentatives(rows, 3, undefined, { maxRepresentatives: 4 });
    expect(Array.from(r.assignment)).toEqual([0, 2, 1, 3, 2, 3]);
    expect(Array.from(r.weights)).toEqual([1, 1, 2, 2]);
    expect(r.novel).toBe(1);
    // Without room left for novel directions, everything joins the single seed.
    const full = reduceToRepresentatives(rows, 3, undefined, { maxRepresentatives: 1 });
    expect(Array.from(full.weights)).toEqual([6]);
    expect(full.novel).toBe(0);
  });

  it('gives a speaker too brief to be sampled a representative of its own', () => {
    const brief = noisyGroups({ sizes: [3000, 3], dim, noise: 0.6, seed: 12 });
    const r = reduceToRepresentatives(brief.embeddings, dim, undefined, { maxRepresentatives: 100 });
    const reps = new Set(Array.from(r.assignment.slice(3000)));
    expect(reps.size).toBe(1);
    const rep = [...reps][0];
    expect(Array.from(r.assignment.slice(0, 3000)).includes(rep)).toBe(false);
    expect(r.weights[rep]).toBe(3);
  });

  it('reports progress and stops when aborted', () => {
    const seen: number[] = [];
    reduceToRepresentatives(embeddings, dim, undefined, { maxRepresentatives: 100, onProgress: (done) => seen.push(done) });
    expect(seen[0]).toBe(0);
    expect(seen[seen.length - 1]).toBe(n);
    const controller = new AbortController();
    controller.abort();
    expect(() => reduceToRepresentatives(embeddings, dim, undefined, { maxRepresentatives: 100, signal: controller.signal })).toThrow(AbortedError);
  });
});
