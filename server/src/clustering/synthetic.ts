/**
 * Synthetic speaker-embedding groups and label helpers, for specs and the clustering benchmark.
 * Deterministic for a seed.
 */
import { gaussian, seededRandom } from './random';

export interface SyntheticGroups {
  /** [N, dim] row-major, L2-normalised. */
  embeddings: Float32Array;
  dim: number;
  /** [N] group of each row. */
  truth: Int32Array;
}

/**
 * Noisy unit vectors around random unit centres. `noise` is the expected length of the
 * perturbation (the centre has length 1); rows come in the order `order` says: 'grouped' (all
 * of group 0, then group 1, ...), 'shuffled', or 'turns' (shuffled runs of 5..40 rows).
 */
export function noisyGroups(options: { sizes: number[]; dim: number; noise: number; seed: number; order?: 'grouped' | 'shuffled' | 'turns' }): SyntheticGroups {
  const { sizes, dim, noise } = options;
  const uniform = seededRandom(options.seed);
  const normal = gaussian(uniform);
  const centres = sizes.map(() => normalise(Float64Array.from({ length: dim }, normal)));
  const n = sizes.reduce((a, b) => a + b, 0);
  const truth = new Int32Array(n);
  let row = 0;
  sizes.forEach((size, g) => truth.fill(g, row, (row += size)));
  if (options.order === 'shuffled') shuffle(truth, uniform);
  if (options.order === 'turns') {
    // Runs of 5..40 consecutive rows per speaker, like windows of a conversation's turns.
    const turns: number[][] = [];
    sizes.forEach((size, g) => {
      for (let left = size; left > 0;) {
        const len = Math.min(left, 5 + Math.floor(uniform() * 36));
        turns.push(new Array<number>(len).fill(g));
        left -= len;
      }
    });
    shuffle(turns, uniform);
    truth.set(turns.flat());
  }
  const embeddings = new Float32Array(n * dim);
  const scale = noise / Math.sqrt(dim);
  for (let i = 0; i < n; i++) {
    const v = Float64Array.from(centres[truth[i]], (c) => c + scale * normal());
    embeddings.set(normalise(v), i * dim);
  }
  return { embeddings, dim, truth };
}

function shuffle<T>(items: { length: number; [i: number]: T }, uniform: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
}

function normalise(v: Float64Array): Float64Array {
  let s = 0;
  for (const x of v) s += x * x;
  const norm = Math.sqrt(s);
  return v.map((x) => x / norm);
}

/** Labels renumbered by first appearance, so two partitions compare with toEqual. */
export function canonicalLabels(labels: ArrayLike<number>): number[] {
  const names = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    let name = names.get(labels[i]);
    if (name === undefined) {
      name = names.size;
      names.set(labels[i], name);
    }
    out.push(name);
  }
  return out;
}
