/**
 * Speaker clustering: embeddings in, one label per embedding and per-speaker centroids out.
 *
 *   validate → (N > dense bound: reduce to representatives) → cluster (registry strategy)
 *   → (reduced: each embedding to its nearest centroid) → fold small clusters → merge
 *   near-duplicate centroids → number labels by first appearance, centroids.
 *
 * The post-processing follows 3D-Speaker's CommonClustering (filter_minor_cluster, then
 * merge_by_cos), with weights: cluster sizes and centroids are weighted by `input.weights`.
 */
import { rowDot } from '../vectors/math';
import { InvalidArgumentError, throwIfAborted } from '../common/errors';
import { noProgress, type ProgressCallback } from '../common/progress';
import { ahcCluster } from './ahc';
import {
  ClusteringConfigSchema,
  clusterCountBounds,
  type ClusteringConfig,
  type ClusteringInput,
  type ClusteringMethod,
  type ClusteringResult,
} from './config';
import { reduceToRepresentatives } from './reduce';
import { firstAppearance, spectralCluster } from './spectral';

export {
  CLUSTERING_METHODS,
  ClusteringConfigSchema,
  DEFAULT_CLUSTERING,
  type ClusterCountBounds,
  type ClusteringConfig,
  type ClusteringInput,
  type ClusteringMethod,
  type ClusteringResult,
} from './config';

/** What a strategy receives: the points to cluster (embeddings, or representatives). */
export interface ClustererInput {
  /** [M, dim] row-major. */
  embeddings: Float32Array;
  dim: number;
  /** [M] weight of each row; 1 each when absent. */
  weights?: Float32Array;
  /** Rows are unnormalised weighted means of unit embeddings (representatives from reduce.ts). */
  rowsAreMeans: boolean;
}

/** A strategy returns one label per row (any numbering). */
export type Clusterer = (input: ClustererInput, config: ClusteringConfig) => Int32Array;

export interface ClusteringOptions {
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

const ahc: Clusterer = (input, config) => {
  const n = input.embeddings.length / input.dim;
  return ahcCluster(
    input.embeddings,
    input.dim,
    { thresholdCosine: config.thresholdCosine, rowsAreMeans: input.rowsAreMeans, ...clusterCountBounds(config, n) },
    input.weights,
  );
};

const spectral: Clusterer = (input, config) => {
  const n = input.embeddings.length / input.dim;
  let maxSpeakers = config.maxSpeakers ?? Math.max(config.minSpeakers ?? 1, config.spectralMaxSpeakers);
  if (config.spectralCapByAhc && config.numSpeakers === undefined && config.maxSpeakers === undefined) {
    // The eigengap never counts more speakers than AHC at the calibrated threshold finds (see config).
    const capThreshold = Math.min(1, config.thresholdCosine + config.spectralCapMarginCosine);
    maxSpeakers = Math.max(config.minSpeakers ?? 1, new Set(ahc(input, { ...config, thresholdCosine: capThreshold })).size);
  }
  const bounds = clusterCountBounds({ ...config, maxSpeakers }, n);
  return spectralCluster(
    input.embeddings,
    input.dim,
    {
      ...bounds,
      pval: config.spectralPval,
      minNeighbours: config.spectralMinNeighbours,
      seed: config.seed,
    },
    input.weights,
  ).labels;
};

/** Clustering strategies by name. */
export const clusterers: Record<ClusteringMethod, Clusterer> = { ahc, spectral };

/** Clusters speaker embeddings; N = 0 gives an empty result, N = 1 a single cluster. */
export function clusterEmbeddings(input: ClusteringInput, config: ClusteringConfig, options: ClusteringOptions = {}): ClusteringResult {
  const cfg = validateConfig(config);
  const { embeddings, dim, weights } = input;
  const n = validateInput(input);
  const onProgress = options.onProgress ?? noProgress;
  if (n === 0) return { labels: new Int32Array(0), numClusters: 0, centroids: new Float32Array(0) };
  const bounds = clusterCountBounds(cfg, n);
  const clusterer = clusterers[cfg.method];
  const denseLimit = cfg.method === 'spectral' ? Math.min(cfg.maxDensePoints, cfg.maxSpectralPoints) : cfg.maxDensePoints;

  let labels: Int32Array;
  if (n <= denseLimit) {
    labels = clusterer({ embeddings, dim, weights, rowsAreMeans: false }, cfg);
  } else {
    const reduction = reduceToRepresentatives(embeddings, dim, weights, {
      maxRepresentatives: denseLimit,
      signal: options.signal,
      onProgress: (completed, total) => onProgress({ stage: 'clustering', completed, total: total + 1 }),
    });
    throwIfAborted(options.signal, 'clustering');
    const repLabels = clusterer({ embeddings: reduction.means, dim, weights: reduction.weights, rowsAreMeans: true }, cfg);
    labels = reduction.assignment.map((rep) => repLabels[rep]);
    labels = reassignToNearestCentroid(embeddings, dim, labels, weights, bounds.minClusters);
  }
  throwIfAborted(options.signal, 'clustering');
  labels = reassignSmallClusters(embeddings, dim, labels, weights, cfg.minClusterSec, bounds.minClusters);
  labels = mergeSimilarClusters(embeddings, dim, labels, weights, cfg.mergeThresholdCosine, bounds.minClusters);
  labels = firstAppearance(labels);
  const numClusters = countLabels(labels);
  onProgress({ stage: 'clustering', completed: n + 1, total: n + 1 });
  return { labels, numClusters, centroids: centroids(embeddings, dim, labels, numClusters, weights) };
}

// ---------------------------------------------------------------- post-processing

/** Per-cluster weighted sums [K, dim] and total weights [K]; labels must be 0..K-1. */
function clusterSums(embeddings: Float32Array, dim: number, labels: Int32Array, k: number, weights?: Float32Array) {
  const sums = new Float64Array(k * dim);
  const mass = new Float64Array(k);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    const w = weights ? weights[i] : 1;
    mass[c] += w;
    const base = i * dim;
    const cb = c * dim;
    for (let d = 0; d < dim; d++) sums[cb + d] += w * embeddings[base + d];
  }
  return { sums, mass };
}

function normaliseRows(sums: Float64Array, k: number, dim: number): Float64Array {
  const out = new Float64Array(sums.length);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += sums[c * dim + d] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < dim; d++) out[c * dim + d] = sums[c * dim + d] * inv;
  }
  return out;
}

function countLabels(labels: Int32Array): number {
  let max = -1;
  for (const l of labels) if (l > max) max = l;
  return max + 1;
}

/** Index of the most similar of `candidates` (rows of unit `centres`) to embedding i. */
function nearest(embeddings: Float32Array, dim: number, i: number, centres: Float64Array, candidates: number[]): number {
  let best = candidates[0];
  let bestSim = -Infinity;
  for (const c of candidates) {
    const dot = rowDot(embeddings, i, centres, c, dim);
    if (dot > bestSim) {
      bestSim = dot;
      best = c;
    }
  }
  return best;
}

/** Moves every embedding to its most similar centroid, unless that leaves fewer than minClusters clusters. */
export function reassignToNearestCentroid(
  embeddings: Float32Array,
  dim: number,
  labels: Int32Array,
  weights: Float32Array | undefined,
  minClusters: number,
): Int32Array {
  const dense = firstAppearance(labels);
  const k = countLabels(dense);
  if (k <= 1) return dense;
  const centres = normaliseRows(clusterSums(embeddings, dim, dense, k, weights).sums, k, dim);
  const all = Array.from({ length: k }, (_, c) => c);
  const moved = dense.map((_, i) => nearest(embeddings, dim, i, centres, all));
  return new Set(moved).size >= Math.min(minClusters, k) ? moved : dense;
}

/**
 * Clusters lighter than `minClusterSec` (by weight) give their embeddings to the most similar
 * heavier cluster (3D-Speaker's filter_minor_cluster). When fewer than `minClusters` clusters are
 * heavy enough, the heaviest light ones are kept as well.
 */
export function reassignSmallClusters(
  embeddings: Float32Array,
  dim: number,
  labels: Int32Array,
  weights: Float32Array | undefined,
  minClusterSec: number,
  minClusters: number,
): Int32Array {
  const dense = firstAppearance(labels);
  const k = countLabels(dense);
  const { sums, mass } = clusterSums(embeddings, dim, dense, k, weights);
  const bySize = Array.from({ length: k }, (_, c) => c).sort((a, b) => mass[b] - mass[a] || a - b);
  const keep = bySize.filter((c, rank) => mass[c] >= minClusterSec || rank < minClusters);
  if (keep.length === k || keep.length === 0) return dense;
  const kept = new Uint8Array(k);
  for (const c of keep) kept[c] = 1;
  const centres = normaliseRows(sums, k, dim);
  return dense.map((c, i) => (kept[c] ? c : nearest(embeddings, dim, i, centres, keep)));
}

/**
 * Repeatedly merges the two clusters with the most similar centroids while that similarity is at
 * least `thresholdCosine` and more than `minClusters` clusters remain (3D-Speaker's merge_by_cos).
 */
export function mergeSimilarClusters(
  embeddings: Float32Array,
  dim: number,
  labels: Int32Array,
  weights: Float32Array | undefined,
  thresholdCosine: number,
  minClusters: number,
): Int32Array {
  const dense = firstAppearance(labels);
  const k = countLabels(dense);
  const { sums } = clusterSums(embeddings, dim, dense, k, weights);
  const alive = Array.from({ length: k }, (_, c) => c);
  const into = Int32Array.from(alive);
  while (alive.length > Math.max(1, minClusters)) {
    const centres = normaliseRows(sums, k, dim);
    let best = -Infinity;
    let bi = -1;
    let bj = -1;
    for (let x = 0; x < alive.length; x++) {
      for (let y = x + 1; y < alive.length; y++) {
        const a = alive[x];
        const b = alive[y];
        const dot = rowDot(centres, a, centres, b, dim);
        if (dot > best) {
          best = dot;
          bi = a;
          bj = b;
        }
      }
    }
    if (best < thresholdCosine) break;
    for (let d = 0; d < dim; d++) sums[bi * dim + d] += sums[bj * dim + d];
    for (let c = 0; c < k; c++) if (into[c] === bj) into[c] = bi;
    alive.splice(alive.indexOf(bj), 1);
  }
  return dense.map((c) => into[c]);
}

/** [K, dim] L2-normalised weighted mean of each cluster; labels must be 0..K-1. */
function centroids(embeddings: Float32Array, dim: number, labels: Int32Array, k: number, weights?: Float32Array): Float32Array {
  return Float32Array.from(normaliseRows(clusterSums(embeddings, dim, labels, k, weights).sums, k, dim));
}

// ---------------------------------------------------------------- validation

function validateConfig(config: ClusteringConfig): ClusteringConfig {
  const method = (config as { method?: unknown }).method;
  if (typeof method !== 'string' || !Object.hasOwn(clusterers, method)) {
    throw new InvalidArgumentError(`Unknown clustering method ${JSON.stringify(method)}; known methods: ${Object.keys(clusterers).join(', ')}.`);
  }
  const parsed = ClusteringConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
    throw new InvalidArgumentError(`Invalid clustering config (${issues}).`);
  }
  return parsed.data;
}

function validateInput(input: ClusteringInput): number {
  const { embeddings, dim, weights } = input;
  if (!Number.isInteger(dim) || dim <= 0) throw new InvalidArgumentError(`Embedding dim must be a positive integer, got ${dim}.`);
  if (!(embeddings instanceof Float32Array) || embeddings.length % dim !== 0) {
    throw new InvalidArgumentError(`Embeddings must be a Float32Array of N×${dim} values, got length ${embeddings?.length}.`);
  }
  const n = embeddings.length / dim;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += embeddings[i * dim + d] ** 2;
    if (!Number.isFinite(s) || s === 0) {
      throw new InvalidArgumentError(`Embedding ${i} is ${s === 0 ? 'all zeros' : 'not finite'}; cosine clustering needs finite, non-zero vectors.`);
    }
  }
  if (weights !== undefined) {
    if (weights.length !== n) throw new InvalidArgumentError(`Expected ${n} weights (one per embedding), got ${weights.length}.`);
    for (let i = 0; i < n; i++) {
      if (!(weights[i] > 0) || !Number.isFinite(weights[i])) {
        throw new InvalidArgumentError(`Weight ${i} is ${weights[i]}; weights must be finite and positive (e.g. seconds of speech).`);
      }
    }
  }
  return n;
}
