/**
 * Scalable reduction: many embeddings → at most `maxRepresentatives` weighted representatives.
 *
 * Seeded Voronoi reduction over an HNSW index (one assignment step of k-means):
 *   1. seeds: every s-th embedding in time order, so that 75% of the budget is used; they go
 *      into the index;
 *   2. every other embedding asks the index for its most similar seed (k = 1; the previous
 *      embedding's seed is compared too) and joins that seed's representative (weighted
 *      running sum), unless even the nearest seed is less similar than `noveltyCosine`: then it
 *      becomes a new seed itself, while the remaining 25% of the budget lasts (a speaker too
 *      brief to be sampled still gets a representative).
 * Time: M index insertions + N searches; memory O(M·dim). Deterministic, one pass, and the
 * count is predictable (≈ 0.75·budget), unlike radius-driven leader clustering, whose count in
 * 256 dimensions collapses over a narrow band of radii (within-speaker similarities concentrate).
 *
 * Means are returned unnormalised: for unit-length members, mean_a·mean_b is exactly the
 * average cosine between the members of a and b, which is what average-linkage AHC needs to
 * continue from the representatives as its first clusters.
 */
import { throwIfAborted } from '../common/errors';
import { VectorIndex } from '../vectors/vector-index';

export interface ReductionOptions {
  maxRepresentatives: number;
  /** An embedding less similar than this to every seed starts a representative of its own. */
  noveltyCosine?: number;
  signal?: AbortSignal;
  /** Called with the number of embeddings processed so far. */
  onProgress?: (completed: number, total: number) => void;
}

export interface Reduction {
  /** [M, dim] weighted mean of each representative's members (not normalised). */
  means: Float32Array;
  /** [M] total weight of each representative's members. */
  weights: Float32Array;
  /** [N] representative of each embedding. */
  assignment: Int32Array;
  /** How many representatives were opened for novel embeddings (beyond the time-stride seeds). */
  novel: number;
}

export const DEFAULT_NOVELTY_COSINE = 0.3;
/** Share of the budget taken by the time-stride seeds; the rest is kept for novel embeddings. */
const SEED_FRACTION = 0.75;
const INDEX_OPTIONS = { m: 16, efConstruction: 64, efSearch: 12 } as const;

export function reduceToRepresentatives(embeddings: Float32Array, dim: number, weights: Float32Array | undefined, options: ReductionOptions): Reduction {
  const n = embeddings.length / dim;
  const budget = Math.max(1, Math.floor(options.maxRepresentatives));
  const novelty = options.noveltyCosine ?? DEFAULT_NOVELTY_COSINE;
  const seeds = Math.min(n, Math.max(1, Math.floor(budget * SEED_FRACTION)));
  const stride = n / seeds;

  const sums = new Float64Array(budget * dim); // [M, dim] weighted sums
  const mass = new Float64Array(budget);
  const assignment = new Int32Array(n).fill(-1);
  const index = new VectorIndex(dim, { capacity: budget, ...INDEX_OPTIONS });
  const seedUnits = new Float32Array(budget * dim); // [M, dim] unit seed vectors
  let count = 0;
  const addSeed = (row: Float32Array): number => {
    index.add(row, count);
    setUnitRow(seedUnits, count, row, dim);
    return count++;
  };
  for (let s = 0; s < seeds; s++) {
    const i = Math.floor(s * stride);
    assignment[i] = addSeed(embeddings.subarray(i * dim, (i + 1) * dim));
  }

  let previous = -1;
  for (let i = 0; i < n; i++) {
    if ((i & 1023) === 0) {
      throwIfAborted(options.signal, 'clustering');
      options.onProgress?.(i, n);
    }
    const row = embeddings.subarray(i * dim, (i + 1) * dim);
    let rep = assignment[i];
    if (rep < 0) {
      const hit = index.search(row, 1);
      rep = hit.ids[0];
      let best = hit.similarities[0];
      // The previous embedding's seed too: HNSW can miss a seed that sits far from all others
      // (a new speaker's), and consecutive windows are mostly the same speaker.
      if (previous >= 0 && previous !== rep) {
        const sim = cosineToUnit(row, seedUnits, previous, dim);
        if (sim > best) {
          best = sim;
          rep = previous;
        }
      }
      if (best < novelty && count < budget) rep = addSeed(row);
      assignment[i] = rep;
    }
    previous = rep;
    const w = weights ? weights[i] : 1;
    const base = rep * dim;
    for (let d = 0; d < dim; d++) sums[base + d] += w * row[d];
    mass[rep] += w;
  }
  options.onProgress?.(n, n);

  const means = new Float32Array(count * dim);
  const repWeights = new Float32Array(count);
  for (let r = 0; r < count; r++) {
    repWeights[r] = mass[r];
    for (let d = 0; d < dim; d++) means[r * dim + d] = sums[r * dim + d] / mass[r];
  }
  return { means, weights: repWeights, assignment, novel: count - seeds };
}

/** Cosine between a row and the unit vector in row `r` of `units`. */
function cosineToUnit(row: Float32Array, units: Float32Array, r: number, dim: number): number {
  let dot = 0;
  let norm = 0;
  const base = r * dim;
  for (let d = 0; d < dim; d++) {
    dot += row[d] * units[base + d];
    norm += row[d] * row[d];
  }
  return dot / Math.sqrt(norm);
}

function setUnitRow(units: Float32Array, r: number, row: Float32Array, dim: number): void {
  let norm = 0;
  for (let d = 0; d < dim; d++) norm += row[d] * row[d];
  const inv = 1 / Math.sqrt(norm);
  for (let d = 0; d < dim; d++) units[r * dim + d] = row[d] * inv;
}
