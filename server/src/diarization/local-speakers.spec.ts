import { ChunkActivity, mapLocalSpeakers, mappedClusterVotes, secondSpeakerAt, topTwoAt } from './local-speakers';

const NUM_LOCAL = 3;

/** A chunk of `numFrames` frames where local speaker k is active on the frame ranges given for it. */
function chunk(firstFrame: number, numFrames: number, active: Record<number, [number, number][]>): ChunkActivity {
  const activity = new Uint8Array(numFrames * NUM_LOCAL);
  for (const [k, ranges] of Object.entries(active)) for (const [a, b] of ranges) for (let j = a; j < b; j++) activity[j * NUM_LOCAL + Number(k)] = 1;
  return { firstFrame, activity, numFrames };
}

/**
 * A synthetic mix with known overlap, on the segmentation frame grid: clusters A=0, B=1, C=2.
 * Chunk 0 (frames 0-99): C alone 0-20 (local 2), A alone 20-50 (local 0), A+B overlap 50-60, B alone 60-100 (local 1).
 * Chunk 1 (frames 100-199), local speakers numbered differently: B alone 100-140 (local 2), B+A overlap 140-150,
 * A alone 150-200 (local 1). The first-speaker labels (nearest window) mark overlap frames as the earlier speaker.
 */
const chunks = [chunk(0, 100, { 2: [[0, 20]], 0: [[20, 60]], 1: [[50, 100]] }), chunk(100, 100, { 2: [[0, 50]], 1: [[40, 100]] })];
const truth = (g: number): number[] => (g < 20 ? [2] : g < 50 ? [0] : g < 60 ? [0, 1] : g < 140 ? [1] : g < 150 ? [1, 0] : [0]);
const firstLabel = (g: number): number => truth(g)[0];

describe('local speakers mapped to global clusters (pyannote reconstruct)', () => {
  it('maps each chunk’s local speakers to the clusters of their single-speaker frames, whatever their local numbering', () => {
    expect(Array.from(mapLocalSpeakers(chunks[0], NUM_LOCAL, 3, firstLabel))).toEqual([0, 1, 2]);
    expect(Array.from(mapLocalSpeakers(chunks[1], NUM_LOCAL, 3, firstLabel))).toEqual([-1, 0, 1]);
  });

  it('gives overlapped frames both speakers of the known overlap, and single-speaker frames one', () => {
    const votes = mappedClusterVotes(chunks, NUM_LOCAL, 3, 200, firstLabel);
    for (let g = 0; g < 200; g++) {
      const pair = topTwoAt(votes, 3, g);
      const expected = truth(g);
      if (expected.length === 2) expect(pair && [...pair].sort()).toEqual([...expected].sort());
      else {
        expect(pair).toBeUndefined();
        expect(secondSpeakerAt(votes, 3, g, expected[0])).toBeUndefined();
      }
    }
    // The second speaker of an overlapped frame is B (who talks there), not C (who spoke last before A).
    expect(secondSpeakerAt(votes, 3, 55, 0)).toBe(1);
  });

  it('leaves a local speaker unmapped when it talks only in overlap, and two local speakers never share a cluster', () => {
    const onlyOverlap = chunk(0, 50, { 0: [[0, 50]], 1: [[10, 20]] });
    expect(Array.from(mapLocalSpeakers(onlyOverlap, NUM_LOCAL, 2, () => 0))).toEqual([0, -1, -1]);
    // Both local speakers' solo frames carry cluster 0's label: only the better-supported one gets it.
    const split = chunk(0, 50, { 0: [[0, 30]], 1: [[30, 50]] });
    expect(Array.from(mapLocalSpeakers(split, NUM_LOCAL, 2, () => 0))).toEqual([0, -1, -1]);
  });

  it('sums the votes of chunks that overlap in time (the 5 s step): both views of an overlap count', () => {
    // Chunk at 0 and chunk at 50 (frames 50-149) cover frames 50-99 twice, with their own local numbering.
    // Truth: A alone 0-60, A+B 60-70, B alone 70-150.
    const overlapping = [chunk(0, 100, { 1: [[0, 70]], 0: [[60, 100]] }), chunk(50, 100, { 2: [[0, 20]], 0: [[10, 100]] })];
    const label = (g: number): number => (g < 70 ? 0 : 1); // first speaker: A until B takes over
    expect(Array.from(mapLocalSpeakers(overlapping[1], NUM_LOCAL, 2, label))).toEqual([1, -1, 0]);
    const votes = mappedClusterVotes(overlapping, NUM_LOCAL, 2, 150, label);
    expect([votes[65 * 2], votes[65 * 2 + 1]]).toEqual([2, 2]); // both chunks see A and B at frame 65
    expect(topTwoAt(votes, 2, 65)).toBeDefined();
    expect([votes[80 * 2], votes[80 * 2 + 1]]).toEqual([0, 2]); // B alone, seen by both
    expect(topTwoAt(votes, 2, 80)).toBeUndefined();
  });
});
