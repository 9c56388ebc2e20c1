import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '../common/errors';
import { seededRandom as rng } from '../clustering/random';
import { cosine } from './math';
import { VectorIndex } from './vector-index';

function randomUnitVectors(n: number, dim: number, seed: number): Float32Array[] {
  const next = rng(seed);
  const out: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const v = new Float32Array(dim);
    let norm = 0;
    for (let d = 0; d < dim; d++) {
      // Box-Muller: isotropic directions.
      const g = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
      v[d] = g;
      norm += g * g;
    }
    norm = Math.sqrt(norm);
    for (let d = 0; d < dim; d++) v[d] /= norm;
    out.push(v);
  }
  return out;
}

function bruteForce(data: Float32Array[], query: Float32Array, k: number): number[] {
  return data
    .map((v, id) => ({ id, s: cosine(v, query) }))
    .sort((x, y) => y.s - x.s)
    .slice(0, k)
    .map((x) => x.id);
}

describe('VectorIndex', () => {
  it('finds the same neighbours as brute force (recall >= 0.95) while growing from a small capacity', () => {
    const dim = 32;
    const data = randomUnitVectors(2000, dim, 1);
    const queries = randomUnitVectors(100, dim, 2);
    const index = new VectorIndex(dim, { capacity: 16 });
    data.forEach((v) => index.add(v));
    expect(index.size).toBe(2000);

    const k = 10;
    let hits = 0;
    for (const q of queries) {
      const truth = new Set(bruteForce(data, q, k));
      const { ids, similarities } = index.search(q, k);
      expect(ids).toHaveLength(k);
      for (let i = 1; i < k; i++) expect(similarities[i]).toBeLessThanOrEqual(similarities[i - 1] + 1e-6);
      for (const id of ids) if (truth.has(id)) hits++;
    }
    expect(hits / (queries.length * k)).toBeGreaterThanOrEqual(0.95);
  });

  it('returns cosine similarity (not hnswlib distance), unaffected by vector length', () => {
    const index = new VectorIndex(3);
    index.add(Float32Array.of(1, 0, 0), 7);
    index.add(Float32Array.of(0, 5, 0), 9); // not normalised: cosine ignores the length
    const res = index.search(Float32Array.of(2, 2, 0), 2);
    expect(res.ids.slice().sort()).toEqual([7, 9]);
    expect(res.similarities[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(res.similarities[1]).toBeCloseTo(Math.SQRT1_2, 6);
    const exact = index.search(Float32Array.of(0, 1, 0), 1);
    expect(exact.ids).toEqual([9]);
    expect(exact.similarities[0]).toBeCloseTo(1, 6);
    const opposite = index.search(Float32Array.of(-1, 0, 0), 2);
    expect(opposite.ids[1]).toBe(7);
    expect(opposite.similarities[1]).toBeCloseTo(-1, 6);
  });

  it('assigns ids after the largest one used, and asks for no more neighbours than it holds', () => {
    const index = new VectorIndex(2);
    expect(index.search(Float32Array.of(1, 0), 3)).toEqual({ ids: [], similarities: [] });
    expect(index.add(Float32Array.of(1, 0))).toBe(0);
    expect(index.add(Float32Array.of(0, 1), 10)).toBe(10);
    expect(index.add(Float32Array.of(1, 1))).toBe(11);
    expect(index.search(Float32Array.of(1, 0), 50).ids).toHaveLength(3);
  });

  it('replaces an existing id in place and removes ids', () => {
    const index = new VectorIndex(2, { capacity: 2 });
    index.add(Float32Array.of(1, 0), 1);
    index.add(Float32Array.of(0, 1), 2);
    index.add(Float32Array.of(-1, 0), 1); // replace
    expect(index.size).toBe(2);
    expect(index.search(Float32Array.of(-1, 0), 1).ids).toEqual([1]);

    expect(index.remove(2)).toBe(true);
    expect(index.remove(2)).toBe(false);
    expect(index.size).toBe(1);
    expect(index.search(Float32Array.of(0, 1), 5).ids).toEqual([1]);

    index.add(Float32Array.of(0, 1), 2); // re-adding a removed id restores it
    expect(index.size).toBe(2);
    expect(index.search(Float32Array.of(0, 1), 1).ids).toEqual([2]);
  });

  it('saves and loads, keeping ids, removals and the next free id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vector-index-'));
    try {
      const dim = 16;
      const data = randomUnitVectors(300, dim, 3);
      const index = new VectorIndex(dim, { capacity: 8, efSearch: 32 });
      data.forEach((v) => index.add(v));
      index.remove(5);
      const file = join(dir, 'speakers.hnsw');
      index.save(file);

      const loaded = VectorIndex.load(file);
      expect(loaded.dim).toBe(dim);
      expect(loaded.size).toBe(299);
      expect(loaded.has(5)).toBe(false);
      for (const q of data.slice(0, 20)) expect(loaded.search(q, 3)).toEqual(index.search(q, 3));
      expect(loaded.add(data[0])).toBe(300);
      expect(Array.from(loaded.get(0))).toEqual(Array.from(index.get(0)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects wrong lengths, zero vectors, bad ids and a missing file with InvalidArgument/FileNotFound errors', () => {
    const index = new VectorIndex(3);
    expect(() => index.add(Float32Array.of(1, 0))).toThrow(InvalidArgumentError);
    expect(() => index.add(Float32Array.of(0, 0, 0))).toThrow(InvalidArgumentError);
    expect(() => index.add(Float32Array.of(1, 0, 0), -1)).toThrow(InvalidArgumentError);
    expect(() => index.search(Float32Array.of(1, 0, Number.NaN), 1)).toThrow(InvalidArgumentError);
    expect(() => index.search(Float32Array.of(1, 0, 0), 0)).toThrow(InvalidArgumentError);
    expect(() => new VectorIndex(0)).toThrow(InvalidArgumentError);
    expect(() => VectorIndex.load(join(tmpdir(), 'no-such-index.hnsw'))).toThrow(/File not found/);
  });
});
