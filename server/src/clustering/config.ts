/**
 * Clustering configuration: one zod schema holds every default. Counts are numbers of clusters
 * (speakers); sizes are in weight units (seconds of speech when the caller passes durations as
 * weights, embeddings otherwise).
 */
import { z } from 'zod';

export const CLUSTERING_METHODS = ['ahc', 'spectral'] as const;
export type ClusteringMethod = (typeof CLUSTERING_METHODS)[number];

const count = z.number().int().positive();

export const ClusteringConfigSchema = z
  .object({
    method: z.enum(CLUSTERING_METHODS).default('ahc'),
    /** AHC: stop merging when the best average-linkage cosine similarity falls below this. */
    thresholdCosine: z.number().min(-1).max(1).default(0.4),
    /** Exact number of clusters (both methods); overrides min/max. */
    numSpeakers: count.optional(),
    minSpeakers: count.optional(),
    maxSpeakers: count.optional(),
    /** Clusters lighter than this (by weight) are folded into the nearest heavier cluster. */
    minClusterSize: z.number().min(0).default(4),
    /** After clustering, merge clusters whose centroids are at least this similar. */
    mergeThresholdCosine: z.number().min(-1).max(1).default(0.8),
    /** Above this many embeddings, cluster representatives instead (memory is O(points²)). */
    maxDensePoints: z.number().int().min(2).default(2000),
    /** Spectral's eigendecomposition is O(points³): it runs on at most this many points. */
    maxSpectralPoints: z.number().int().min(2).optional(),
    /** Spectral p-pruning: fraction of each affinity row kept (3D-Speaker `pval`), raised to minNeighbours/N. */
    spectralPval: z.number().gt(0).max(1).optional(),
    /** Spectral p-pruning: entries kept per row at least (3D-Speaker `min_pnum`, the diagonal included). */
    spectralMinNeighbours: count.optional(),
    /** Upper bound of the eigengap search when maxSpeakers is not given (3D-Speaker's default). */
    spectralMaxSpeakers: count.optional(),
    /**
     * Spectral: search the eigengap only up to the number of clusters AHC finds at `thresholdCosine`.
     * On a short recording whose windows all sound alike the eigengap's largest gap can sit at the top of
     * the search range (10 speakers for one); the calibrated threshold rules that out.
     */
    spectralCapByAhc: z.boolean().default(false),
    /** Seed of the k-means restarts in spectral clustering. */
    seed: z.number().int().optional(),
  })
  .refine((c) => c.minSpeakers === undefined || c.maxSpeakers === undefined || c.minSpeakers <= c.maxSpeakers, {
    message: 'minSpeakers must not exceed maxSpeakers',
  });

export type ClusteringConfig = z.infer<typeof ClusteringConfigSchema>;

/** Defaults of the optional tuning fields above (optional so that callers may leave them out). */
export const CLUSTERING_TUNING_DEFAULTS = {
  maxSpectralPoints: 1000,
  spectralPval: 0.02,
  spectralMinNeighbours: 6,
  spectralMaxSpeakers: 10,
  seed: 0,
} as const;

export const DEFAULT_CLUSTERING: ClusteringConfig = ClusteringConfigSchema.parse({});

export interface ClusteringInput {
  /** [N, dim] row-major, L2-normalised speaker embeddings. */
  embeddings: Float32Array;
  dim: number;
  /** [N] positive, e.g. seconds of speech behind each embedding; 1 each when absent. */
  weights?: Float32Array;
}

export interface ClusteringResult {
  /** [N] cluster of each embedding, 0..K-1 numbered by first appearance. */
  labels: Int32Array;
  numClusters: number;
  /** [K, dim] row-major, L2-normalised weighted mean of each cluster. */
  centroids: Float32Array;
}

/** Bounds on the number of clusters, already reconciled with N (numSpeakers wins over min/max). */
export interface ClusterCountBounds {
  numClusters?: number;
  minClusters: number;
  maxClusters: number;
}

export function clusterCountBounds(config: Pick<ClusteringConfig, 'numSpeakers' | 'minSpeakers' | 'maxSpeakers'>, n: number): ClusterCountBounds {
  if (n === 0) return { minClusters: 0, maxClusters: 0 };
  if (config.numSpeakers !== undefined) {
    const k = Math.min(config.numSpeakers, n);
    return { numClusters: k, minClusters: k, maxClusters: k };
  }
  const minClusters = Math.min(config.minSpeakers ?? 1, n);
  const maxClusters = Math.max(minClusters, Math.min(config.maxSpeakers ?? n, n));
  return { minClusters, maxClusters };
}
