import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eigengapCount, kmeans, prunedLaplacian, spectralCluster } from './spectral';
import { canonicalLabels, noisyGroups } from './synthetic';

interface SpectralCase {
  name: string;
  n: number;
  dim: number;
  embeddings: number[];
  pval: number;
  minNeighbours: number;
  minSpeakers: number;
  maxSpeakers: number;
  numSpeakers?: number;
  eigenvalues: number[];
  numClusters: number;
  labels: number[];
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../../../test/fixtures/clustering/spectral.json'), 'utf8')) as {
  cases: SpectralCase[];
};

describe.each(fixture.cases)('spectral clustering against the numpy transcription of 3D-Speaker: $name', (c) => {
  const embeddings = Float32Array.from(c.embeddings);
  const result = spectralCluster(embeddings, c.dim, {
    pval: c.pval,
    minNeighbours: c.minNeighbours,
    numClusters: c.numSpeakers,
    minClusters: c.minSpeakers,
    maxClusters: c.maxSpeakers,
    seed: 0,
  });

  it('has the same smallest Laplacian eigenvalues (within 1e-8; the brief asks 1e-4)', () => {
    expect(result.eigenvalues.length).toBeGreaterThanOrEqual(c.numClusters);
    result.eigenvalues.forEach((v, j) => expect(Math.abs(v - c.eigenvalues[j])).toBeLessThan(1e-8));
  });

  it('picks the same number of speakers and the same partition (up to relabelling)', () => {
    expect(result.numClusters).toBe(c.numClusters);
    expect(Array.from(result.labels)).toEqual(canonicalLabels(c.labels));
  });
});

describe('spectralCluster', () => {
  const options = { pval: 0.02, minNeighbours: 6, minClusters: 1, maxClusters: 10, seed: 0 };

  it('recovers clearly separated groups and their number', () => {
    const { embeddings, truth } = noisyGroups({ sizes: [40, 25, 30, 15, 20], dim: 32, noise: 0.5, seed: 7, order: 'shuffled' });
    const result = spectralCluster(embeddings, 32, options);
    expect(result.numClusters).toBe(5);
    expect(Array.from(result.labels)).toEqual(canonicalLabels(truth));
  });

  it('honours numClusters and the [min, max] bounds of the eigengap search', () => {
    const { embeddings } = noisyGroups({ sizes: [40, 25, 30, 15, 20], dim: 32, noise: 0.5, seed: 7 });
    expect(spectralCluster(embeddings, 32, { ...options, numClusters: 3 }).numClusters).toBe(3);
    expect(spectralCluster(embeddings, 32, { ...options, maxClusters: 3 }).numClusters).toBeLessThanOrEqual(3);
    expect(spectralCluster(embeddings, 32, { ...options, minClusters: 7 }).numClusters).toBeGreaterThanOrEqual(7);
  });

  it('produces a symmetric Laplacian with zero row sums and at least minNeighbours-1 neighbours per row', () => {
    const { embeddings } = noisyGroups({ sizes: [10, 10], dim: 8, noise: 0.8, seed: 3 });
    const n = 20;
    const l = prunedLaplacian(embeddings, 8, 0.02, 6);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      let neighbours = 0;
      for (let j = 0; j < n; j++) {
        expect(l[i * n + j]).toBeCloseTo(l[j * n + i], 12);
        sum += l[i * n + j];
        if (j !== i && l[i * n + j] !== 0) neighbours++;
      }
      expect(Math.abs(sum)).toBeLessThan(1e-9); // all kept similarities are positive here
      expect(neighbours).toBeGreaterThanOrEqual(5);
    }
  });

  it('chooses the count at the largest eigengap within the bounds', () => {
    const values = Float64Array.of(0, 0.01, 0.02, 1.5, 1.6, 3.5);
    expect(eigengapCount(values, 1, 4)).toBe(3);
    expect(eigengapCount(values, 4, 5)).toBe(5);
    expect(eigengapCount(values, 1, 2)).toBe(1); // equal gaps: the first (numpy argmax)
    expect(eigengapCount(values, 6, 9)).toBe(6); // no gap to look at: the minimum
  });

  it('k-means is deterministic for a seed and respects weights', () => {
    // Two tight pairs far apart, and a lone point near the second pair.
    const pts = Float64Array.of(0, 0, 0.1, 0, 10, 10, 10.1, 10, 6, 6);
    const a = kmeans(pts, 5, 2, 2, { seed: 1 });
    expect(Array.from(kmeans(pts, 5, 2, 2, { seed: 1 }))).toEqual(Array.from(a));
    expect(canonicalLabels(a)).toEqual([0, 0, 1, 1, 1]);
    // On a line 0, 3, 6.2 the middle point joins 0; ten times the weight on 0 moves it to 6.2.
    const line = Float64Array.of(0, 0, 3, 0, 6.2, 0);
    expect(canonicalLabels(kmeans(line, 3, 2, 2, { seed: 1 }))).toEqual([0, 0, 1]);
    expect(canonicalLabels(kmeans(line, 3, 2, 2, { seed: 1, weights: Float32Array.of(10, 1, 1) }))).toEqual([0, 1, 1]);
    const three = kmeans(pts, 5, 2, 3, { seed: 1 });
    expect(canonicalLabels(three)).toEqual([0, 0, 1, 1, 2]);
  });

  it('returns trivial results for zero and one point', () => {
    expect(spectralCluster(new Float32Array(0), 4, options).numClusters).toBe(0);
    const one = spectralCluster(Float32Array.of(1, 0, 0, 0), 4, options);
    expect(Array.from(one.labels)).toEqual([0]);
    expect(one.numClusters).toBe(1);
  });
});
