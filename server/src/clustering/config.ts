/**
 * Clustering configuration: one zod schema holds every default. Counts are numbers of clusters
 * (speakers); sizes are in weight units (seconds of speech when the caller passes durations as
 * weights, embeddings otherwise).
 */
import { z } from 'zod';

import { checkSpeakerCounts, speakerCountFields } from './speaker-counts';

export const CLUSTERING_METHODS = ['ahc', 'spectral'] as const;
export type ClusteringMethod = (typeof CLUSTERING_METHODS)[number];

const count = z.number().int().positive();

/**
 * Every clustering setting with the default in effect for the pipeline. The diarization config embeds
 * this shape (diarization/config.ts), leaving method and threshold to the strategy and the model.
 */
export const clusteringSettingsShape = {
  method: z.enum(CLUSTERING_METHODS).default('ahc'),
  /** AHC: stop merging when the best average-linkage cosine similarity falls below this. */
  thresholdCosine: z.number().min(-1).max(1).default(0.4),
  /** Exact number of clusters (both methods), or bounds: the one rule of clustering/speaker-counts.ts. */
  ...speakerCountFields,
  /** Clusters lighter than this (by weight: seconds of speech in the pipeline) are folded into the nearest heavier cluster. */
  minClusterSec: z.number().min(0).default(0),
  /** After clustering, merge clusters whose centroids are at least this similar. */
  mergeThresholdCosine: z.number().min(-1).max(1).default(0.9),
  /** Above this many embeddings, cluster representatives instead (memory is O(points²)). */
  maxDensePoints: z.number().int().min(2).default(2000),
  /** Spectral's eigendecomposition is O(points³): it runs on at most this many points. */
  maxSpectralPoints: z.number().int().min(2).default(1000),
  /** Spectral p-pruning: fraction of each affinity row kept (3D-Speaker `pval`), raised to minNeighbours/N. */
  spectralPval: z.number().gt(0).max(1).default(0.02),
  /** Spectral p-pruning: entries kept per row at least (3D-Speaker `min_pnum`, the diagonal included). */
  spectralMinNeighbours: count.default(6),
  /** Upper bound of the eigengap search when maxSpeakers is not given (3D-Speaker's default). */
  spectralMaxSpeakers: count.default(10),
  /**
   * Spectral: search the eigengap only up to the number of clusters AHC finds at `thresholdCosine`.
   * On a short recording whose windows all sound alike the eigengap's largest gap can sit at the top of
   * the search range (10 speakers for one); the calibrated threshold rules that out.
   */
  spectralCapByAhc: z.boolean().default(false),
  /**
   * The capping AHC runs at thresholdCosine + this: the cap only has to rule out absurd eigengap counts, so it
   * errs towards more clusters (fewer merges) than the calibrated threshold (figures in README).
   */
  spectralCapMarginCosine: z.number().min(0).max(1).default(0.05),
  /** Seed of the k-means restarts in spectral clustering. */
  seed: z.number().int().default(0),
};

export const ClusteringConfigSchema = z.object(clusteringSettingsShape).superRefine(checkSpeakerCounts);

export type ClusteringConfig = z.infer<typeof ClusteringConfigSchema>;

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
