import { cosine, l2Normalize, meanEmbedding, rowDot } from './math';

describe('vector math', () => {
  it('l2Normalize scales in place to unit length and leaves a zero vector alone', () => {
    const v = Float32Array.from([3, 4]);
    expect(l2Normalize(v)).toBe(v);
    expect(Array.from(v)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(Array.from(l2Normalize(new Float32Array(3)))).toEqual([0, 0, 0]);
  });

  it('meanEmbedding averages rows (optionally weighted) and normalises', () => {
    const rows = Float32Array.from([1, 0, 0, 1]);
    const [x, y] = meanEmbedding(rows, 2);
    expect(x).toBeCloseTo(Math.SQRT1_2, 6);
    expect(y).toBeCloseTo(Math.SQRT1_2, 6);
    // Weights 3 and 4 → (3, 4) / 5.
    expect(Array.from(meanEmbedding(rows, 2, [3, 4]))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
  });

  it('cosine is 1, 0, -1 for parallel, orthogonal, opposite vectors and 0 against a zero vector', () => {
    expect(cosine(Float32Array.from([1, 2]), Float32Array.from([2, 4]))).toBeCloseTo(1, 12);
    expect(cosine(Float32Array.from([1, 0]), Float32Array.from([0, 5]))).toBe(0);
    expect(cosine(Float32Array.from([1, 1]), Float32Array.from([-2, -2]))).toBeCloseTo(-1, 12);
    expect(cosine(Float32Array.from([1, 1]), new Float32Array(2))).toBe(0);
  });

  it('rowDot multiplies the chosen rows of two matrices', () => {
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]); // rows (1,2,3), (4,5,6)
    const b = Float32Array.from([1, 0, 1, 0, 1, 0]); // rows (1,0,1), (0,1,0)
    expect(rowDot(a, 1, b, 0, 3)).toBe(10);
    expect(rowDot(a, 0, b, 1, 3)).toBe(2);
  });
});
