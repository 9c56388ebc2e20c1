/**
 * Spectral clustering, 3D-Speaker's `SpectralCluster` recipe (speakerlab/process/cluster.py):
 *   1. cosine affinity between all embeddings;
 *   2. p-pruning: in each row keep the largest `pval·N` entries (at least `minNeighbours`, the
 *      diagonal included) and zero the rest; pval is raised to minNeighbours/N as in the
 *      modelscope port;
 *   3. symmetrise (A + Aᵀ)/2, zero the diagonal;
 *   4. unnormalised Laplacian L = D - A with D = diag(Σ|A|);
 *   5. the speaker count is the position of the largest gap among the smallest eigenvalues,
 *      λ[min-1 .. max] (or numSpeakers when given);
 *   6. k-means on the first K eigenvectors (seeded k-means++, best of 10 restarts).
 * Weights (optional) weigh the points in k-means; the affinity graph itself is unweighted.
 */
import type { ClusterCountBounds } from './config';
import { smallestEigenpairs } from './eigen';
import { seededRandom } from './random';

export interface SpectralOptions extends ClusterCountBounds {
  /** Fraction of each affinity row kept. */
  pval: number;
  /** Entries kept per row at least (diagonal included). */
  minNeighbours: number;
  /** Seed of the k-means restarts. */
  seed: number;
}

export interface SpectralResult {
  /** [N] labels numbered by first appearance. */
  labels: Int32Array;
  numClusters: number;
  /** The smallest eigenvalues of the Laplacian (ascending) that the count was chosen from. */
  eigenvalues: Float64Array;
}

/** The pruned, symmetrised affinity's unnormalised Laplacian, [n, n] row-major. */
export function prunedLaplacian(embeddings: Float32Array, dim: number, pval: number, minNeighbours: number): Float64Array {
  const n = embeddings.length / dim;
  const unit = new Float64Array(n * dim);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += embeddings[i * dim + d] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let d = 0; d < dim; d++) unit[i * dim + d] = embeddings[i * dim + d] * inv;
  }
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    a[i * n + i] = 1;
    for (let j = i + 1; j < n; j++) {
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += unit[i * dim + d] * unit[j * dim + d];
      a[i * n + j] = dot;
      a[j * n + i] = dot;
    }
  }
  // p-pruning: zero the `drop` smallest entries of each row.
  const p = n * pval < minNeighbours ? minNeighbours / n : pval;
  const drop = Math.max(0, Math.min(Math.floor((1 - p) * n), n - minNeighbours));
  if (drop > 0) {
    const sorted = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const row = a.subarray(i * n, (i + 1) * n);
      sorted.set(row);
      sorted.sort();
      // Zero everything below the drop-th smallest value, then values equal to it (in index
      // order) until exactly `drop` entries are gone.
      const cut = sorted[drop - 1];
      let below = 0;
      for (let j = 0; j < n; j++) if (row[j] < cut) below++;
      let ties = drop - below;
      for (let j = 0; j < n; j++) {
        if (row[j] < cut) row[j] = 0;
        else if (row[j] === cut && ties > 0) {
          row[j] = 0;
          ties--;
        }
      }
    }
  }
  // Symmetrise, then L = D - A with a zero diagonal.
  for (let i = 0; i < n; i++) {
    a[i * n + i] = 0;
    for (let j = i + 1; j < n; j++) {
      const s = 0.5 * (a[i * n + j] + a[j * n + i]);
      a[i * n + j] = s;
      a[j * n + i] = s;
    }
  }
  for (let i = 0; i < n; i++) {
    let degree = 0;
    for (let j = 0; j < n; j++) degree += Math.abs(a[i * n + j]);
    for (let j = 0; j < n; j++) a[i * n + j] = -a[i * n + j];
    a[i * n + i] = degree;
  }
  return a;
}

/** 3D-Speaker's eigengap rule: argmax of λ[i+1] - λ[i] over i in [min-1, max-1], plus min. */
export function eigengapCount(eigenvalues: Float64Array, minClusters: number, maxClusters: number): number {
  const end = Math.min(eigenvalues.length - 1, maxClusters);
  let best = minClusters;
  let bestGap = -Infinity;
  for (let i = minClusters - 1; i < end; i++) {
    const gap = eigenvalues[i + 1] - eigenvalues[i];
    if (gap > bestGap) {
      bestGap = gap;
      best = i + 1;
    }
  }
  return best;
}

export function spectralCluster(embeddings: Float32Array, dim: number, options: SpectralOptions, weights?: Float32Array): SpectralResult {
  const n = embeddings.length / dim;
  if (n <= 1) return { labels: new Int32Array(n), numClusters: n, eigenvalues: new Float64Array(n) };
  const laplacian = prunedLaplacian(embeddings, dim, options.pval, options.minNeighbours);
  const wanted = options.numClusters ?? options.maxClusters + 1;
  const { values, vectors } = smallestEigenpairs(laplacian, n, Math.min(n, wanted));
  let k = options.numClusters ?? eigengapCount(values, Math.max(1, options.minClusters), options.maxClusters);
  k = Math.max(1, Math.min(k, n));
  // Spectral embedding: row i = first k eigenvector entries of point i.
  const stride = values.length;
  const points = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) points[i * k + j] = vectors[i * stride + j];
  const labels = kmeans(points, n, k, k, { weights, seed: options.seed });
  return { labels: firstAppearance(labels), numClusters: new Set(labels).size, eigenvalues: values };
}

/**
 * Weighted k-means (Lloyd) with k-means++ seeding; the restart with the lowest weighted
 * inertia wins. Deterministic for a given seed.
 */
export function kmeans(
  points: Float64Array,
  n: number,
  dim: number,
  k: number,
  options: { weights?: Float32Array; seed: number; restarts?: number; maxIterations?: number },
): Int32Array {
  const weight = (i: number) => (options.weights ? options.weights[i] : 1);
  const random = seededRandom(options.seed);
  const restarts = options.restarts ?? 10;
  const maxIterations = options.maxIterations ?? 300;
  let best: Int32Array = new Int32Array(n);
  let bestInertia = Infinity;
  if (k <= 1 || n <= 1) return best;
  const dist2 = (i: number, centres: Float64Array, c: number) => {
    let s = 0;
    for (let d = 0; d < dim; d++) {
      const t = points[i * dim + d] - centres[c * dim + d];
      s += t * t;
    }
    return s;
  };
  const pick = (mass: Float64Array, total: number) => {
    let r = random() * total;
    for (let i = 0; i < n; i++) {
      r -= mass[i];
      if (r < 0 && mass[i] > 0) return i;
    }
    for (let i = n - 1; i >= 0; i--) if (mass[i] > 0) return i;
    return 0;
  };
  for (let restart = 0; restart < restarts; restart++) {
    // k-means++: each next centre drawn with probability ∝ weight·(distance to nearest centre)².
    const centres = new Float64Array(k * dim);
    const nearest = new Float64Array(n);
    const mass = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) total += mass[i] = weight(i);
    let chosen = pick(mass, total);
    centres.set(points.subarray(chosen * dim, (chosen + 1) * dim), 0);
    for (let i = 0; i < n; i++) nearest[i] = dist2(i, centres, 0);
    for (let c = 1; c < k; c++) {
      total = 0;
      for (let i = 0; i < n; i++) total += mass[i] = weight(i) * nearest[i];
      chosen = total > 0 ? pick(mass, total) : Math.floor(random() * n);
      centres.set(points.subarray(chosen * dim, (chosen + 1) * dim), c * dim);
      for (let i = 0; i < n; i++) nearest[i] = Math.min(nearest[i], dist2(i, centres, c));
    }
    // Lloyd iterations until no assignment changes.
    const labels = new Int32Array(n).fill(-1);
    const sums = new Float64Array(k * dim);
    const masses = new Float64Array(k);
    for (let iter = 0; iter < maxIterations; iter++) {
      let changed = false;
      for (let i = 0; i < n; i++) {
        let bestC = 0;
        let bestD = Infinity;
        for (let c = 0; c < k; c++) {
          const dd = dist2(i, centres, c);
          if (dd < bestD) {
            bestD = dd;
            bestC = c;
          }
        }
        if (labels[i] !== bestC) {
          labels[i] = bestC;
          changed = true;
        }
      }
      if (!changed) break;
      sums.fill(0);
      masses.fill(0);
      for (let i = 0; i < n; i++) {
        const c = labels[i];
        const w = weight(i);
        masses[c] += w;
        for (let d = 0; d < dim; d++) sums[c * dim + d] += w * points[i * dim + d];
      }
      for (let c = 0; c < k; c++) {
        if (masses[c] === 0) continue; // an emptied cluster keeps its centre
        for (let d = 0; d < dim; d++) centres[c * dim + d] = sums[c * dim + d] / masses[c];
      }
    }
    let inertia = 0;
    for (let i = 0; i < n; i++) inertia += weight(i) * dist2(i, centres, labels[i]);
    if (inertia < bestInertia) {
      bestInertia = inertia;
      best = labels;
    }
  }
  return best;
}

/** Renumbers labels 0, 1, ... in order of first appearance. */
export function firstAppearance(labels: Int32Array): Int32Array {
  const names = new Map<number, number>();
  return labels.map((label) => {
    let name = names.get(label);
    if (name === undefined) {
      name = names.size;
      names.set(label, name);
    }
    return name;
  });
}
