/**
 * Pure embedding-vector maths shared by clustering, speakers, services and the pipeline. No native
 * binding here (hnswlib-node stays in vector-index.ts), so importing this never loads an addon.
 * Hand-written: a few short loops over Float32Array, not worth a linear-algebra dependency.
 */

/** In place: scale `v` to unit length (a zero vector is left as is). Returns `v`. */
export function l2Normalize(v: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i] * v[i];
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i] /= norm;
  return v;
}

/** Mean of `rows` L2-normalised embeddings ([n, dim] row-major), L2-normalised. */
export function meanEmbedding(rows: Float32Array, dim: number, weights?: ArrayLike<number>): Float32Array {
  const mean = new Float32Array(dim);
  const n = rows.length / dim;
  for (let i = 0; i < n; i++) {
    const w = weights ? weights[i] : 1;
    for (let j = 0; j < dim; j++) mean[j] += w * rows[i * dim + j];
  }
  return l2Normalize(mean);
}

/** Cosine similarity; 0 when either vector is zero. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / (Math.sqrt(na * nb) || 1);
}

/** Dot product of row `i` of `a` and row `j` of `b` (both [n, dim] row-major). */
export function rowDot(a: Float32Array | Float64Array, i: number, b: Float32Array | Float64Array, j: number, dim: number): number {
  const ai = i * dim;
  const bj = j * dim;
  let dot = 0;
  for (let d = 0; d < dim; d++) dot += a[ai + d] * b[bj + d];
  return dot;
}
