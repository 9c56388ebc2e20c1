/**
 * Agglomerative hierarchical clustering, average linkage on cosine distance.
 *
 * Same algorithm and conventions as scipy's `linkage(X, method='average', metric='cosine')`:
 * the nearest-neighbour-chain algorithm over a condensed distance matrix (scipy's `nn_chain`,
 * including its tie-breaking), then a stable sort of the merges by height and scipy's
 * relabelling, so the merge sequence and heights can be compared row for row.
 *
 * Memory: N(N-1)/2 float32 distances (computed in float64, stored in float32). Linkage
 * distances that differ by less than float32 resolution (~1e-7 relative) may therefore be
 * ordered differently from scipy's float64; exact ties are broken the same way.
 * Time: O(N²·dim) for the distances, O(N²) for the chain.
 *
 * Weights (optional) act as cluster sizes in the average-linkage update: a point of weight w
 * counts as w coincident points, so `d(k, i∪j) = (w_i·d(k,i) + w_j·d(k,j)) / (w_i + w_j)`.
 * With unit weights this is exactly UPGMA. (The clustering entry point passes weights only for
 * representatives, each standing for many embeddings.)
 */
import { rowDot } from '../vectors/math';
import type { ClusterCountBounds } from './config';

/** scipy's linkage matrix: row i merges clusters `left[i]` and `right[i]` into cluster n + i. */
export interface Linkage {
  /** Number of original points. */
  n: number;
  /** [n-1] smaller cluster id of each merge. */
  left: Int32Array;
  /** [n-1] larger cluster id of each merge. */
  right: Int32Array;
  /** [n-1] cosine distance (1 - average similarity) at which the merge happens, ascending. */
  height: Float64Array;
  /** [n-1] number of original points in the merged cluster. */
  size: Int32Array;
}

/** Index of (i, j), i != j, in a condensed upper-triangular matrix of n points. */
function condensedIndex(n: number, i: number, j: number): number {
  if (i > j) {
    const t = i;
    i = j;
    j = t;
  }
  return n * i - (i * (i + 1)) / 2 + (j - i - 1);
}

/**
 * Condensed linkage distances between rows: `1 - cos` (scipy `pdist(metric='cosine')`), or, for
 * rows that are unnormalised means of unit vectors (`rowsAreMeans`), `1 - mean_a·mean_b`, the
 * average cosine distance between the members behind the two rows. Clipped to [0, 2].
 */
export function linkageDistances(embeddings: Float32Array, n: number, dim: number, rowsAreMeans = false): Float32Array {
  const norms = new Float64Array(n).fill(1);
  if (!rowsAreMeans) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      const base = i * dim;
      for (let d = 0; d < dim; d++) s += embeddings[base + d] * embeddings[base + d];
      norms[i] = Math.sqrt(s);
    }
  }
  const out = new Float32Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n - 1; i++) {
    for (let j = i + 1; j < n; j++) {
      let cos = rowDot(embeddings, i, embeddings, j, dim) / (norms[i] * norms[j]);
      if (cos > 1) cos = 1;
      else if (cos < -1) cos = -1;
      out[k++] = 1 - cos;
    }
  }
  return out;
}

/**
 * Average-linkage dendrogram of `n` points from their condensed distances (consumed: the
 * array is overwritten with cluster-to-cluster distances).
 */
export function averageLinkage(distances: Float32Array, n: number, weights?: Float32Array): Linkage {
  const merges = Math.max(0, n - 1);
  const mx = new Int32Array(merges);
  const my = new Int32Array(merges);
  const mh = new Float64Array(merges);
  const active = new Uint8Array(n).fill(1);
  const mass = new Float64Array(n);
  for (let i = 0; i < n; i++) mass[i] = weights ? weights[i] : 1;
  const chain = new Int32Array(n);
  let chainLength = 0;
  const D = distances;

  for (let k = 0; k < merges; k++) {
    if (chainLength === 0) {
      for (let i = 0; i < n; i++) {
        if (active[i]) {
          chain[0] = i;
          break;
        }
      }
      chainLength = 1;
    }
    let x = 0;
    let y = 0;
    let currentMin = Infinity;
    // Follow nearest neighbours until two clusters are each other's nearest.
    for (;;) {
      x = chain[chainLength - 1];
      // Prefer the previous element of the chain on ties, to avoid cycles (as scipy does).
      if (chainLength > 1) {
        y = chain[chainLength - 2];
        currentMin = D[condensedIndex(n, x, y)];
      } else {
        currentMin = Infinity;
      }
      // Scan row x: for i < x the entries are strided, for i > x contiguous.
      let rowStart = condensedIndex(n, 0, x); // index of (0, x) when x > 0
      for (let i = 0; i < x; i++) {
        if (active[i]) {
          const dist = D[rowStart];
          if (dist < currentMin) {
            currentMin = dist;
            y = i;
          }
        }
        rowStart += n - i - 2;
      }
      let idx = x + 1 < n ? condensedIndex(n, x, x + 1) : 0;
      for (let i = x + 1; i < n; i++, idx++) {
        if (active[i]) {
          const dist = D[idx];
          if (dist < currentMin) {
            currentMin = dist;
            y = i;
          }
        }
      }
      if (chainLength > 1 && y === chain[chainLength - 2]) break;
      chain[chainLength++] = y;
    }
    chainLength -= 2;
    if (x > y) {
      const t = x;
      x = y;
      y = t;
    }
    mx[k] = x;
    my[k] = y;
    mh[k] = currentMin;
    const wx = mass[x];
    const wy = mass[y];
    active[x] = 0;
    mass[y] = wx + wy;
    // Cluster y becomes x∪y: weighted average of the two rows.
    for (let i = 0; i < n; i++) {
      if (!active[i] || i === y) continue;
      const iy = condensedIndex(n, i, y);
      D[iy] = (wx * D[condensedIndex(n, i, x)] + wy * D[iy]) / (wx + wy);
    }
  }
  return relabel(mx, my, mh, n);
}

/** scipy's `label`: stable sort by height, then name each merged cluster n, n+1, ... */
function relabel(mx: Int32Array, my: Int32Array, mh: Float64Array, n: number): Linkage {
  const m = mx.length;
  const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => mh[a] - mh[b]); // stable
  const parent = new Int32Array(Math.max(1, 2 * n - 1)).map((_, i) => i);
  const count = new Int32Array(Math.max(1, 2 * n - 1)).fill(1);
  const find = (v: number): number => {
    let root = v;
    while (parent[root] !== root) root = parent[root];
    while (parent[v] !== root) {
      const next = parent[v];
      parent[v] = root;
      v = next;
    }
    return root;
  };
  const linkage: Linkage = {
    n,
    left: new Int32Array(m),
    right: new Int32Array(m),
    height: new Float64Array(m),
    size: new Int32Array(m),
  };
  for (let r = 0; r < m; r++) {
    const src = order[r];
    const a = find(mx[src]);
    const b = find(my[src]);
    const next = n + r;
    linkage.left[r] = Math.min(a, b);
    linkage.right[r] = Math.max(a, b);
    linkage.height[r] = mh[src];
    parent[a] = next;
    parent[b] = next;
    count[next] = count[a] + count[b];
    linkage.size[r] = count[next];
  }
  return linkage;
}

/** Flat clusters after applying the first `merges` rows; labels numbered by first appearance. */
export function cutLinkage(linkage: Linkage, merges: number): Int32Array {
  const { n } = linkage;
  const parent = new Int32Array(Math.max(1, 2 * n - 1)).map((_, i) => i);
  for (let r = 0; r < merges; r++) {
    parent[linkage.left[r]] = n + r;
    parent[linkage.right[r]] = n + r;
  }
  const labels = new Int32Array(n);
  const names = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    let root = i;
    while (parent[root] !== root) root = parent[root];
    let label = names.get(root);
    if (label === undefined) {
      label = names.size;
      names.set(root, label);
    }
    labels[i] = label;
  }
  return labels;
}

/** Number of merges whose height is at most `maxDistance` (heights ascend: a prefix). */
export function mergesWithin(linkage: Linkage, maxDistance: number): number {
  let m = 0;
  while (m < linkage.height.length && linkage.height[m] <= maxDistance) m++;
  return m;
}

export interface AhcOptions extends ClusterCountBounds {
  thresholdCosine: number;
  /** Rows are unnormalised weighted means of unit embeddings (representatives), see linkageDistances. */
  rowsAreMeans?: boolean;
}

/**
 * Average-linkage AHC: cut where the linkage similarity falls below the threshold, then clamp
 * the number of clusters into [minClusters, maxClusters]; `numClusters` cuts at exactly that many.
 */
export function ahcCluster(embeddings: Float32Array, dim: number, options: AhcOptions, weights?: Float32Array): Int32Array {
  const n = embeddings.length / dim;
  if (n === 0) return new Int32Array(0);
  const linkage = averageLinkage(linkageDistances(embeddings, n, dim, options.rowsAreMeans), n, weights);
  let clusters: number;
  if (options.numClusters !== undefined) {
    clusters = options.numClusters;
  } else {
    clusters = n - mergesWithin(linkage, 1 - options.thresholdCosine);
    clusters = Math.min(options.maxClusters, Math.max(options.minClusters, clusters));
  }
  clusters = Math.min(n, Math.max(1, clusters));
  return cutLinkage(linkage, n - clusters);
}
