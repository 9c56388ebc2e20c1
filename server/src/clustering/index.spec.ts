import { AbortedError, InvalidArgumentError } from '../common/errors';
import type { ProgressEvent } from '../common/progress';
import {
  clusterEmbeddings,
  clusterers,
  DEFAULT_CLUSTERING,
  mergeSimilarClusters,
  reassignSmallClusters,
  type ClusteringConfig,
  type ClusteringResult,
} from './index';
import { canonicalLabels, noisyGroups } from './synthetic';

const methods = ['ahc', 'spectral'] as const;

// The settings these cases were written against (the pipeline's defaults fold nothing and merge at 0.9).
function config(overrides: Partial<ClusteringConfig> = {}): ClusteringConfig {
  return { ...DEFAULT_CLUSTERING, thresholdCosine: 0.4, minClusterSec: 4, mergeThresholdCosine: 0.8, ...overrides };
}

function expectUnitCentroids(result: ClusteringResult, dim: number): void {
  expect(result.centroids).toHaveLength(result.numClusters * dim);
  for (let c = 0; c < result.numClusters; c++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += result.centroids[c * dim + d] ** 2;
    expect(s).toBeCloseTo(1, 5);
  }
}

describe('clusterEmbeddings', () => {
  const dim = 32;
  const groups = noisyGroups({ sizes: [40, 25, 30, 15], dim, noise: 0.6, seed: 5, order: 'shuffled' });

  it('has a registry of strategies, and rejects an unknown one listing the known ones', () => {
    expect(Object.keys(clusterers).sort()).toEqual(['ahc', 'spectral']);
    const bad = { ...DEFAULT_CLUSTERING, method: 'kmeans' } as unknown as ClusteringConfig;
    expect(() => clusterEmbeddings(groups, bad)).toThrow(InvalidArgumentError);
    expect(() => clusterEmbeddings(groups, bad)).toThrow(/"kmeans".*ahc, spectral/);
  });

  it.each(methods)('%s: recovers well-separated speakers, numbered by first appearance, with unit centroids', (method) => {
    const result = clusterEmbeddings(groups, config({ method }));
    expect(result.numClusters).toBe(4);
    expect(Array.from(result.labels)).toEqual(canonicalLabels(groups.truth));
    expect(result.labels[0]).toBe(0);
    expectUnitCentroids(result, dim);
    // Each centroid is the normalised mean of its members.
    const first = result.labels[5];
    const mean = new Float64Array(dim);
    result.labels.forEach((l, i) => {
      if (l === first) for (let d = 0; d < dim; d++) mean[d] += groups.embeddings[i * dim + d];
    });
    const norm = Math.hypot(...mean);
    for (let d = 0; d < dim; d++) expect(result.centroids[first * dim + d]).toBeCloseTo(mean[d] / norm, 5);
  });

  it.each(methods)('%s: honours numSpeakers, minSpeakers and maxSpeakers', (method) => {
    expect(clusterEmbeddings(groups, config({ method, numSpeakers: 2 })).numClusters).toBe(2);
    expect(clusterEmbeddings(groups, config({ method, numSpeakers: 6, mergeThresholdCosine: 0.5 })).numClusters).toBe(6);
    expect(clusterEmbeddings(groups, config({ method, maxSpeakers: 3 })).numClusters).toBeLessThanOrEqual(3);
    const atLeast = clusterEmbeddings(groups, config({ method, minSpeakers: 6, mergeThresholdCosine: 0.5 }));
    expect(atLeast.numClusters).toBeGreaterThanOrEqual(6);
    // More speakers than embeddings: one cluster each at most.
    const three = { embeddings: groups.embeddings.slice(0, 3 * dim), dim };
    expect(clusterEmbeddings(three, config({ method, numSpeakers: 5, minClusterSec: 0 })).numClusters).toBeLessThanOrEqual(3);
  });

  it.each(methods)('%s: N = 0 gives an empty result and N = 1 a single cluster', (method) => {
    const empty = clusterEmbeddings({ embeddings: new Float32Array(0), dim }, config({ method }));
    expect(empty).toEqual({ labels: new Int32Array(0), numClusters: 0, centroids: new Float32Array(0) });
    const single = clusterEmbeddings({ embeddings: Float32Array.of(3, 4), dim: 2 }, config({ method }));
    expect(Array.from(single.labels)).toEqual([0]);
    expect(single.numClusters).toBe(1);
    expect(Array.from(single.centroids)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
  });

  it('folds a tiny cluster into the nearest big one, unless minSpeakers or its weight keeps it', () => {
    const data = noisyGroups({ sizes: [30, 30, 2], dim, noise: 0.3, seed: 9 });
    const base = config({ method: 'ahc', minClusterSec: 4, mergeThresholdCosine: 0.99 });
    const folded = clusterEmbeddings(data, base);
    expect(folded.numClusters).toBe(2);
    expect(Array.from(folded.labels.slice(0, 60))).toEqual(canonicalLabels(data.truth.slice(0, 60)));
    expect(clusterEmbeddings(data, { ...base, minSpeakers: 3 }).numClusters).toBe(3);
    // Weighted by seconds of speech, the two embeddings of the third speaker weigh enough.
    const weights = Float32Array.from(data.truth, (g) => (g === 2 ? 3 : 1));
    expect(clusterEmbeddings({ ...data, weights }, base).numClusters).toBe(3);
  });

  it('merges clusters whose centroids are near duplicates, unless numSpeakers forbids it', () => {
    // Two groups that AHC keeps apart at a strict threshold but whose centroids are similar.
    const data = noisyGroups({ sizes: [30, 30], dim, noise: 0.3, seed: 2 });
    const close = new Float32Array(data.embeddings);
    for (let i = 30; i < 60; i++) {
      for (let d = 0; d < dim; d++) close[i * dim + d] = 0.75 * data.embeddings[d] + 0.25 * data.embeddings[i * dim + d];
    }
    const input = { embeddings: normaliseRows(close, dim), dim };
    const strict = config({ method: 'ahc', thresholdCosine: 0.99, numSpeakers: undefined, minClusterSec: 0 });
    const split = clusterEmbeddings(input, { ...strict, mergeThresholdCosine: 1 });
    expect(split.numClusters).toBeGreaterThan(1);
    const merged = clusterEmbeddings(input, { ...strict, mergeThresholdCosine: 0.5 });
    expect(merged.numClusters).toBe(1);
    expect(clusterEmbeddings(input, { ...strict, mergeThresholdCosine: 0.5, numSpeakers: 2 }).numClusters).toBe(2);
  });

  it('gives the same partition through the reduction path as densely (N = 5000, maxDensePoints 500)', () => {
    const big = noisyGroups({ sizes: [2000, 1500, 900, 600], dim: 32, noise: 0.6, seed: 21, order: 'shuffled' });
    const dense = clusterEmbeddings(big, config({ method: 'ahc', maxDensePoints: 5000 }));
    const reduced = clusterEmbeddings(big, config({ method: 'ahc', maxDensePoints: 500 }));
    expect(dense.numClusters).toBe(4);
    expect(Array.from(reduced.labels)).toEqual(Array.from(dense.labels));
    for (let i = 0; i < dense.centroids.length; i++) expect(reduced.centroids[i]).toBeCloseTo(dense.centroids[i], 5);
  });

  it('runs spectral on representatives above maxSpectralPoints', () => {
    const big = noisyGroups({ sizes: [900, 700, 400], dim: 32, noise: 0.6, seed: 4, order: 'shuffled' });
    const result = clusterEmbeddings(big, config({ method: 'spectral', maxSpectralPoints: 300 }));
    expect(result.numClusters).toBe(3);
    expect(Array.from(result.labels)).toEqual(canonicalLabels(big.truth));
  });

  it('caps the spectral count at the AHC count of the threshold when spectralCapByAhc is on', () => {
    const three = noisyGroups({ sizes: [40, 30, 30], dim: 32, noise: 0.6, seed: 4, order: 'shuffled' });
    const spectral = config({ method: 'spectral', mergeThresholdCosine: 1 });
    expect(clusterEmbeddings(three, spectral).numClusters).toBe(3);
    // AHC at threshold 0.4 finds the 3 groups too: the cap does not bind.
    expect(clusterEmbeddings(three, { ...spectral, spectralCapByAhc: true }).numClusters).toBe(3);
    // At a threshold every pair passes AHC finds 1: the eigengap may not count more.
    expect(clusterEmbeddings(three, { ...spectral, spectralCapByAhc: true, thresholdCosine: -1 }).numClusters).toBe(1);
    // An explicit count is never capped.
    expect(clusterEmbeddings(three, { ...spectral, spectralCapByAhc: true, thresholdCosine: -1, numSpeakers: 3 }).numClusters).toBe(3);
  });

  it('runs the capping AHC at the threshold plus spectralCapMarginCosine', () => {
    const three = noisyGroups({ sizes: [40, 30, 30], dim: 32, noise: 0.6, seed: 4, order: 'shuffled' });
    const capped = config({ method: 'spectral', mergeThresholdCosine: 1, spectralCapByAhc: true, thresholdCosine: -1 });
    expect(clusterEmbeddings(three, capped).numClusters).toBe(1);
    // The same threshold with no margin caps the count at 1 …
    expect(clusterEmbeddings(three, { ...capped, thresholdCosine: -0.6 }).numClusters).toBe(1);
    // … and with a margin of 1 the cap AHC runs at 0.4, finds the 3 groups, and the eigengap's 3 stands.
    expect(clusterEmbeddings(three, { ...capped, thresholdCosine: -0.6, spectralCapMarginCosine: 1 }).numClusters).toBe(3);
  });

  it('reports progress for the reduction and honours an aborted signal', () => {
    const big = noisyGroups({ sizes: [1500, 1500], dim: 16, noise: 0.5, seed: 8 });
    const events: ProgressEvent[] = [];
    clusterEmbeddings(big, config({ maxDensePoints: 200 }), { onProgress: (e) => events.push(e) });
    expect(events.every((e) => e.stage === 'clustering')).toBe(true);
    expect(events[events.length - 1]).toEqual({ stage: 'clustering', completed: 3001, total: 3001 });
    const controller = new AbortController();
    controller.abort();
    expect(() => clusterEmbeddings(big, config({ maxDensePoints: 200 }), { signal: controller.signal })).toThrow(AbortedError);
  });

  it('rejects malformed input and config with messages that say what was wrong', () => {
    expect(() => clusterEmbeddings({ embeddings: new Float32Array(5), dim: 2 }, config())).toThrow(/N×2/);
    expect(() => clusterEmbeddings({ embeddings: Float32Array.of(1, 0, 0, 0), dim: 2 }, config())).toThrow(/Embedding 1 is all zeros/);
    expect(() => clusterEmbeddings({ embeddings: Float32Array.of(1, 0), dim: 2, weights: Float32Array.of(0) }, config())).toThrow(/Weight 0/);
    expect(() => clusterEmbeddings({ embeddings: Float32Array.of(1, 0), dim: 2, weights: Float32Array.of(1, 1) }, config())).toThrow(/Expected 1 weights/);
    expect(() => clusterEmbeddings(groups, config({ minSpeakers: 5, maxSpeakers: 2 }))).toThrow(/minSpeakers must not exceed maxSpeakers/);
    expect(() => clusterEmbeddings(groups, config({ numSpeakers: 0 }))).toThrow(InvalidArgumentError);
  });
});

describe('post-processing', () => {
  // Three directions on the unit circle (dim 2): 0°, 10°, 90°.
  const deg = (a: number) => [Math.cos((a * Math.PI) / 180), Math.sin((a * Math.PI) / 180)];
  const embeddings = Float32Array.from([...deg(0), ...deg(2), ...deg(10), ...deg(12), ...deg(90), ...deg(88)]);

  it('reassignSmallClusters moves members of light clusters to the most similar heavy centroid', () => {
    const labels = Int32Array.of(0, 0, 1, 2, 2, 2);
    expect(Array.from(reassignSmallClusters(embeddings, 2, labels, undefined, 2, 1))).toEqual([0, 0, 0, 2, 2, 2]);
    expect(Array.from(reassignSmallClusters(embeddings, 2, labels, undefined, 2, 3))).toEqual([0, 0, 1, 2, 2, 2]);
    expect(Array.from(reassignSmallClusters(embeddings, 2, labels, Float32Array.of(1, 1, 5, 1, 1, 1), 2, 1))).toEqual([0, 0, 1, 2, 2, 2]);
  });

  it('mergeSimilarClusters merges the closest centroids first and stops at the threshold or minClusters', () => {
    const labels = Int32Array.of(0, 0, 1, 1, 2, 2);
    expect(Array.from(mergeSimilarClusters(embeddings, 2, labels, undefined, 0.9, 1))).toEqual([0, 0, 0, 0, 2, 2]);
    expect(Array.from(mergeSimilarClusters(embeddings, 2, labels, undefined, -1, 1))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Array.from(mergeSimilarClusters(embeddings, 2, labels, undefined, -1, 2))).toEqual([0, 0, 0, 0, 2, 2]);
    expect(Array.from(mergeSimilarClusters(embeddings, 2, labels, undefined, 0.999, 1))).toEqual([0, 0, 1, 1, 2, 2]);
  });
});

function normaliseRows(x: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length / dim; i++) {
    const row = x.subarray(i * dim, (i + 1) * dim);
    const norm = Math.hypot(...row);
    for (let d = 0; d < dim; d++) out[i * dim + d] = row[d] / norm;
  }
  return out;
}
