import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ahcCluster, averageLinkage, linkageDistances, cutLinkage, mergesWithin } from './ahc';
import { canonicalLabels } from './synthetic';

interface AhcCase {
  name: string;
  n: number;
  dim: number;
  embeddings: number[];
  linkage: [number, number, number, number][];
  byThreshold: { thresholdCosine: number; labels: number[] }[];
  byCount: { numClusters: number; labels: number[] }[];
}

const fixture = JSON.parse(readFileSync(join(__dirname, '../../../test/fixtures/clustering/ahc.json'), 'utf8')) as { cases: AhcCase[] };

describe.each(fixture.cases)('average-linkage AHC against scipy: $name', (c) => {
  const embeddings = Float32Array.from(c.embeddings);
  const linkage = averageLinkage(linkageDistances(embeddings, c.n, c.dim), c.n);

  it('reproduces the merge sequence and heights of scipy.cluster.hierarchy.linkage', () => {
    expect(linkage.left.length).toBe(c.n - 1);
    c.linkage.forEach(([a, b, height, size], r) => {
      expect([linkage.left[r], linkage.right[r], linkage.size[r]]).toEqual([a, b, size]);
      expect(Math.abs(linkage.height[r] - height)).toBeLessThan(1e-6);
    });
  });

  it.each(c.byThreshold)('cuts like fcluster(criterion=distance) at thresholdCosine $thresholdCosine', ({ thresholdCosine, labels }) => {
    const ours = ahcCluster(embeddings, c.dim, { thresholdCosine, minClusters: 1, maxClusters: c.n });
    expect(Array.from(ours)).toEqual(canonicalLabels(labels));
  });

  it.each(c.byCount)('cuts like fcluster(criterion=maxclust) at $numClusters clusters', ({ numClusters, labels }) => {
    const ours = ahcCluster(embeddings, c.dim, { thresholdCosine: 1, numClusters, minClusters: numClusters, maxClusters: numClusters });
    expect(Array.from(ours)).toEqual(canonicalLabels(labels));
    expect(new Set(ours).size).toBe(numClusters);
  });
});

describe('ahcCluster bounds', () => {
  const c = fixture.cases[0];
  const embeddings = Float32Array.from(c.embeddings);
  const linkage = averageLinkage(linkageDistances(embeddings, c.n, c.dim), c.n);
  const count = (labels: Int32Array) => new Set(labels).size;

  it('clamps the threshold cut into [minClusters, maxClusters]', () => {
    const loose = ahcCluster(embeddings, c.dim, { thresholdCosine: 0.95, minClusters: 1, maxClusters: c.n });
    expect(count(loose)).toBeGreaterThan(10);
    const capped = ahcCluster(embeddings, c.dim, { thresholdCosine: 0.95, minClusters: 1, maxClusters: 4 });
    expect(Array.from(capped)).toEqual(Array.from(cutLinkage(linkage, c.n - 4)));
    const tight = ahcCluster(embeddings, c.dim, { thresholdCosine: -1, minClusters: 1, maxClusters: c.n });
    expect(count(tight)).toBe(1);
    const floored = ahcCluster(embeddings, c.dim, { thresholdCosine: -1, minClusters: 3, maxClusters: c.n });
    expect(count(floored)).toBe(3);
  });

  it('counts merges up to a distance as a prefix of the sorted heights', () => {
    expect(mergesWithin(linkage, -1)).toBe(0);
    expect(mergesWithin(linkage, 3)).toBe(c.n - 1);
    const m = mergesWithin(linkage, 0.3);
    expect(linkage.height[m - 1]).toBeLessThanOrEqual(0.3);
    expect(linkage.height[m]).toBeGreaterThan(0.3);
  });

  it('treats a weight as that many coincident points', () => {
    // Point 2 with weight 3 behaves like three copies of it.
    const dim = 2;
    const pts = [1, 0, 0.8, 0.6, 0, 1, 0.6, 0.8];
    const weighted = averageLinkage(linkageDistances(Float32Array.from(pts), 4, dim), 4, Float32Array.of(1, 1, 3, 1));
    const copies = [...pts.slice(0, 4), 0, 1, 0, 1, 0, 1, ...pts.slice(6)];
    const expanded = averageLinkage(linkageDistances(Float32Array.from(copies), 6, dim), 6);
    // The two copy-merges at height 0 are extra; the last three merges must match in height.
    expect(Array.from(weighted.height)).toEqual(Array.from(expanded.height.slice(2)).map((h) => expect.closeTo(h, 6)));
  });

  it('handles one and two points', () => {
    expect(Array.from(ahcCluster(Float32Array.of(1, 0), 2, { thresholdCosine: 0.5, minClusters: 1, maxClusters: 1 }))).toEqual([0]);
    const two = Float32Array.of(1, 0, 0, 1);
    expect(Array.from(ahcCluster(two, 2, { thresholdCosine: 0.5, minClusters: 1, maxClusters: 2 }))).toEqual([0, 1]);
    expect(Array.from(ahcCluster(two, 2, { thresholdCosine: -0.5, minClusters: 1, maxClusters: 2 }))).toEqual([0, 0]);
    expect(ahcCluster(new Float32Array(0), 2, { thresholdCosine: 0.5, minClusters: 0, maxClusters: 0 })).toHaveLength(0);
  });
});
