import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { smallestEigenpairs } from './eigen';
import { seededRandom } from './random';

function randomSymmetric(n: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = random() * 2 - 1;
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}

/** Laplacian of a graph with `blocks` disconnected random components: eigenvalue 0 repeated. */
function blockLaplacian(sizes: number[], seed: number): { a: Float64Array; n: number } {
  const random = seededRandom(seed);
  const n = sizes.reduce((s, x) => s + x, 0);
  const a = new Float64Array(n * n);
  let start = 0;
  for (const size of sizes) {
    for (let i = start; i < start + size; i++) {
      for (let j = i + 1; j < start + size; j++) {
        const w = random() < 0.5 ? random() : 0;
        a[i * n + j] = -w;
        a[j * n + i] = -w;
        a[i * n + i] += w;
        a[j * n + j] += w;
      }
    }
    start += size;
  }
  return { a, n };
}

function checkEigenpairs(a: Float64Array, n: number, count: number): Float64Array {
  const { values, vectors } = smallestEigenpairs(a, n, count);
  for (let j = 0; j < count; j++) {
    // Residual |A x - λ x| and unit length.
    let residual = 0;
    let norm = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * vectors[k * count + j];
      residual = Math.max(residual, Math.abs(s - values[j] * vectors[i * count + j]));
      norm += vectors[i * count + j] ** 2;
    }
    expect(residual).toBeLessThan(1e-9);
    expect(norm).toBeCloseTo(1, 10);
    for (let c = 0; c < j; c++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += vectors[i * count + j] * vectors[i * count + c];
      expect(Math.abs(dot)).toBeLessThan(1e-8);
    }
  }
  return values;
}

function referenceEigenvalues(a: Float64Array, n: number): number[] {
  const rows = Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)));
  return new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true }).realEigenvalues.sort((x, y) => x - y);
}

describe('smallestEigenpairs', () => {
  it.each([2, 3, 17, 60])('matches ml-matrix EigenvalueDecomposition on a random symmetric matrix of order %i', (n) => {
    const a = randomSymmetric(n, n);
    const count = Math.min(n, 12);
    const values = checkEigenpairs(a, n, count);
    const reference = referenceEigenvalues(a, n);
    for (let j = 0; j < count; j++) expect(Math.abs(values[j] - reference[j])).toBeLessThan(1e-10);
  });

  it('returns orthonormal eigenvectors for a repeated zero eigenvalue (disconnected graph)', () => {
    const { a, n } = blockLaplacian([12, 9, 15, 7], 4);
    const values = checkEigenpairs(a, n, 6);
    const reference = referenceEigenvalues(a, n);
    for (let j = 0; j < 4; j++) expect(Math.abs(values[j])).toBeLessThan(1e-10);
    for (let j = 0; j < 6; j++) expect(Math.abs(values[j] - reference[j])).toBeLessThan(1e-10);
  });

  it('handles a diagonal matrix (nothing to reduce) and a 1 x 1 matrix', () => {
    const n = 5;
    const a = new Float64Array(n * n);
    [3, -1, 2, 2, 0].forEach((v, i) => (a[i * n + i] = v));
    expect(Array.from(checkEigenpairs(a, n, 5))).toEqual([-1, 0, 2, 2, 3].map((v) => expect.closeTo(v, 12)));
    expect(Array.from(smallestEigenpairs(Float64Array.of(4), 1, 1).values)).toEqual([4]);
    expect(smallestEigenpairs(Float64Array.of(4), 1, 0).values).toHaveLength(0);
  });
});
