/**
 * The `count` smallest eigenpairs of a dense symmetric matrix.
 *
 * Spectral clustering needs only the first K+1 eigenpairs of a Laplacian, and a full
 * decomposition (ml-matrix's tred2/tql2, which also accumulates all N eigenvectors) takes
 * ~10 s for N = 1000 in JavaScript. This solver follows the LAPACK route for a few eigenpairs:
 *   1. Householder reduction to tridiagonal form, reflectors kept (dsytd2), ~N³ multiply-adds;
 *   2. eigenvalues by bisection on Sturm sequences (dstebz), O(N) per step;
 *   3. eigenvectors by inverse iteration with reorthogonalisation inside clusters of close
 *      eigenvalues (dstein), so repeated eigenvalues (a disconnected affinity graph) still get
 *      orthonormal vectors;
 *   4. back-transformation of those vectors only, O(N²·count).
 * The spec pins it to ml-matrix's EigenvalueDecomposition and the fixture to scipy's eigh.
 */
import { seededRandom } from './random';

export interface Eigenpairs {
  /** [count] ascending. */
  values: Float64Array;
  /** [n, count] row-major: column j is the unit eigenvector of values[j]. */
  vectors: Float64Array;
}

interface Tridiagonal {
  /** [n] diagonal. */
  d: Float64Array;
  /** [n-1] off-diagonal. */
  e: Float64Array;
  /** [n] reflector scalars; reflector k acts on rows k+1..n-1 with vector stored in column k. */
  tau: Float64Array;
  /** The reduced matrix, holding the reflector vectors below the subdiagonal. */
  work: Float64Array;
}

/** Householder tridiagonalisation of a symmetric [n, n] row-major matrix (input not modified). */
function tridiagonalise(matrix: Float64Array, n: number): Tridiagonal {
  const a = Float64Array.from(matrix);
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(0, n - 1));
  const tau = new Float64Array(n);
  const v = new Float64Array(n);
  const p = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    // Reflector H = I - tau·v·vᵀ with v[k+1] = 1 that zeroes a[k+2.., k].
    const alpha = a[(k + 1) * n + k];
    let xnorm2 = 0;
    for (let i = k + 2; i < n; i++) xnorm2 += a[i * n + k] * a[i * n + k];
    if (xnorm2 === 0) {
      e[k] = alpha;
      tau[k] = 0;
      continue;
    }
    const beta = -Math.sign(alpha || 1) * Math.sqrt(alpha * alpha + xnorm2);
    const t = (beta - alpha) / beta;
    const scale = 1 / (alpha - beta);
    v[k + 1] = 1;
    for (let i = k + 2; i < n; i++) {
      v[i] = a[i * n + k] * scale;
      a[i * n + k] = v[i]; // keep the reflector for the back-transformation
    }
    tau[k] = t;
    e[k] = beta;
    // p = tau·A22·v, w = p - (tau/2)(pᵀv)·v, A22 -= v·wᵀ + w·vᵀ; only the lower triangle of
    // A22 is read and kept up to date (it is symmetric), row by row for contiguous access.
    p.fill(0, k + 1, n);
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      let s = 0;
      for (let j = k + 1; j < i; j++) {
        const aij = a[row + j];
        s += aij * v[j];
        p[j] += aij * vi;
      }
      p[i] += s + a[row + i] * vi;
    }
    let pv = 0;
    for (let i = k + 1; i < n; i++) {
      p[i] *= t;
      pv += p[i] * v[i];
    }
    const half = 0.5 * t * pv;
    for (let i = k + 1; i < n; i++) p[i] -= half * v[i];
    for (let i = k + 1; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      const wi = p[i];
      for (let j = k + 1; j <= i; j++) a[row + j] -= vi * p[j] + wi * v[j];
    }
  }
  if (n >= 2) e[n - 2] = a[(n - 1) * n + (n - 2)];
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
  return { d, e, tau, work: a };
}

/** Number of eigenvalues of the tridiagonal matrix strictly below x (Sturm sequence). */
function countBelow(d: Float64Array, e2: Float64Array, x: number, pivmin: number): number {
  let count = 0;
  let q = d[0] - x;
  if (Math.abs(q) < pivmin) q = -pivmin;
  if (q < 0) count++;
  for (let i = 1; i < d.length; i++) {
    q = d[i] - x - e2[i - 1] / q;
    if (Math.abs(q) < pivmin) q = -pivmin;
    if (q < 0) count++;
  }
  return count;
}

/** The `count` smallest eigenvalues of the tridiagonal (d, e), by bisection. */
function smallestTridiagonalEigenvalues(d: Float64Array, e: Float64Array, count: number): Float64Array {
  const n = d.length;
  const e2 = e.map((x) => x * x);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const r = (i > 0 ? Math.abs(e[i - 1]) : 0) + (i < n - 1 ? Math.abs(e[i]) : 0);
    lo = Math.min(lo, d[i] - r);
    hi = Math.max(hi, d[i] + r);
  }
  const norm = Math.max(Math.abs(lo), Math.abs(hi), Number.MIN_VALUE);
  const pivmin = Number.MIN_VALUE * 1e10 + Number.EPSILON * Number.EPSILON * norm;
  lo -= 2 * Number.EPSILON * norm + pivmin;
  hi += 2 * Number.EPSILON * norm + pivmin;
  const tol = 2 * Number.EPSILON * norm;
  const values = new Float64Array(count);
  for (let j = 0; j < count; j++) {
    // The (j+1)-th smallest: countBelow(x) > j means x lies above it.
    let a = j > 0 ? values[j - 1] - tol : lo;
    let b = hi;
    while (b - a > tol + 2 * Number.EPSILON * Math.max(Math.abs(a), Math.abs(b))) {
      const mid = 0.5 * (a + b);
      if (mid === a || mid === b) break;
      if (countBelow(d, e2, mid, pivmin) > j) b = mid;
      else a = mid;
    }
    values[j] = 0.5 * (a + b);
  }
  return values;
}

/** Solves (T - shift·I)·x = b in place (b becomes x); Gaussian elimination with partial pivoting. */
function solveShiftedTridiagonal(d: Float64Array, e: Float64Array, shift: number, b: Float64Array, tiny: number): void {
  const n = d.length;
  // Rows of the eliminated upper-triangular matrix: diag, super1, super2.
  const u0 = new Float64Array(n);
  const u1 = new Float64Array(n);
  const u2 = new Float64Array(n);
  let curDiag = d[0] - shift;
  let curSup = n > 1 ? e[0] : 0;
  for (let i = 0; i < n - 1; i++) {
    const sub = e[i];
    const nextDiag = d[i + 1] - shift;
    const nextSup = i + 1 < n - 1 ? e[i + 1] : 0;
    if (Math.abs(curDiag) >= Math.abs(sub)) {
      const piv = curDiag === 0 ? tiny : curDiag;
      const m = sub / piv;
      u0[i] = piv;
      u1[i] = curSup;
      u2[i] = 0;
      b[i + 1] -= m * b[i];
      curDiag = nextDiag - m * curSup;
      curSup = nextSup;
    } else {
      // Swap rows i and i+1.
      const m = curDiag / sub;
      u0[i] = sub;
      u1[i] = nextDiag;
      u2[i] = nextSup;
      const bi = b[i];
      b[i] = b[i + 1];
      b[i + 1] = bi - m * b[i];
      curDiag = curSup - m * nextDiag;
      curSup = -m * nextSup;
    }
  }
  u0[n - 1] = curDiag;
  for (let i = 0; i < n; i++) if (Math.abs(u0[i]) < tiny) u0[i] = u0[i] < 0 ? -tiny : tiny;
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i];
    if (i + 1 < n) s -= u1[i] * b[i + 1];
    if (i + 2 < n) s -= u2[i] * b[i + 2];
    b[i] = s / u0[i];
  }
}

function normaliseInPlace(x: Float64Array): void {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < x.length; i++) x[i] *= inv;
}

/** Eigenvectors of the tridiagonal for the given eigenvalues (dstein-style inverse iteration). */
function tridiagonalEigenvectors(d: Float64Array, e: Float64Array, values: Float64Array): Float64Array[] {
  const n = d.length;
  let norm = 0;
  for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(d[i]) + (i > 0 ? Math.abs(e[i - 1]) : 0) + (i < n - 1 ? Math.abs(e[i]) : 0));
  norm = Math.max(norm, Number.MIN_VALUE);
  const tiny = Number.EPSILON * norm;
  const clusterGap = 1e-3 * norm;
  const random = seededRandom(0x5eed);
  const vectors: Float64Array[] = [];
  let clusterStart = 0;
  for (let j = 0; j < values.length; j++) {
    if (j > 0 && values[j] - values[j - 1] > clusterGap) clusterStart = j;
    // Perturb the shift of repeated eigenvalues slightly, as dstein does, so that each solve is
    // not exactly singular in the same way.
    let shift = values[j];
    if (j > clusterStart && Math.abs(shift - values[j - 1]) < 10 * tiny) shift = values[j - 1] + 10 * tiny;
    const x = Float64Array.from({ length: n }, () => random() - 0.5);
    for (let iter = 0; iter < 5; iter++) {
      // Keep x orthogonal to the vectors already found for this cluster.
      orthonormaliseAgainst(x, vectors.slice(clusterStart, j));
      solveShiftedTridiagonal(d, e, shift, x, tiny);
    }
    orthonormaliseAgainst(x, vectors.slice(clusterStart, j));
    vectors.push(x);
  }
  return vectors;
}

/** The `count` smallest eigenvalues (ascending) and unit eigenvectors of a symmetric [n, n] matrix. */
export function smallestEigenpairs(matrix: Float64Array, n: number, count: number): Eigenpairs {
  count = Math.max(0, Math.min(count, n));
  const values = new Float64Array(count);
  const vectors = new Float64Array(n * count);
  if (count === 0) return { values, vectors };
  if (n === 1) {
    values[0] = matrix[0];
    vectors[0] = 1;
    return { values, vectors };
  }
  const tri = tridiagonalise(matrix, n);
  values.set(smallestTridiagonalEigenvalues(tri.d, tri.e, count));
  const small = tridiagonalEigenvectors(tri.d, tri.e, values);
  // x = H_0·H_1·…·H_{n-3}·y: apply the reflectors last to first.
  const { work, tau } = tri;
  for (let j = 0; j < count; j++) {
    const x = small[j];
    for (let k = n - 3; k >= 0; k--) {
      if (tau[k] === 0) continue;
      let s = x[k + 1];
      for (let i = k + 2; i < n; i++) s += work[i * n + k] * x[i];
      s *= tau[k];
      x[k + 1] -= s;
      for (let i = k + 2; i < n; i++) x[i] -= s * work[i * n + k];
    }
    for (let i = 0; i < n; i++) vectors[i * count + j] = x[i];
  }
  return { values, vectors };
}

/** Gram-Schmidt: removes from x its components along each (unit) vector, then normalises x. */
function orthonormaliseAgainst(x: Float64Array, others: readonly Float64Array[]): void {
  for (const other of others) {
    let dot = 0;
    for (let i = 0; i < x.length; i++) dot += x[i] * other[i];
    for (let i = 0; i < x.length; i++) x[i] -= dot * other[i];
  }
  normaliseInPlace(x);
}
