import { fillInterpolated, isBusy, needsBetweenChunk, SegmentedChunk, steadyIn, windowsToInterpolate } from './adaptive-step';

const NUM_LOCAL = 3;
const FRAMES = 100;

/** A chunk of FRAMES frames from `firstFrame` where local speaker k is active on the frame ranges given for it. */
function chunk(firstFrame: number, active: Record<number, [number, number][]>, numFrames = FRAMES): SegmentedChunk {
  const activity = new Uint8Array(FRAMES * NUM_LOCAL);
  for (const [k, ranges] of Object.entries(active)) for (const [a, b] of ranges) for (let j = a; j < b; j++) activity[j * NUM_LOCAL + Number(k)] = 1;
  return { firstFrame, activity, numFrames };
}

describe('adaptive segmentation step', () => {
  const options = { minSpeakerFrames: 10 };

  it('calls a span busy when two local speakers each talk for the minimum, or two at once for the minimum', () => {
    // Speaker 0 on 0-60, speaker 1 on 60-100: a change at frame 60.
    const change = chunk(0, { 0: [[0, 60]], 1: [[60, 100]] });
    expect(isBusy(change.activity, NUM_LOCAL, { from: 50, to: 100 }, options)).toBe(true);
    // Frames 65-100 hold speaker 1 alone.
    expect(isBusy(change.activity, NUM_LOCAL, { from: 65, to: 100 }, options)).toBe(false);
    // Speaker 0 only 5 frames inside 55-100: under the minimum, one speaker.
    expect(isBusy(change.activity, NUM_LOCAL, { from: 55, to: 100 }, options)).toBe(false);
    // Overlap of 12 frames (speakers 0 and 2 together), nothing else: busy; of 8 frames: not.
    expect(isBusy(chunk(0, { 0: [[50, 100]], 2: [[70, 82]] }).activity, NUM_LOCAL, { from: 85, to: 100 }, options)).toBe(false);
    expect(isBusy(chunk(0, { 0: [[50, 100]], 2: [[70, 82]] }).activity, NUM_LOCAL, { from: 60, to: 100 }, { minSpeakerFrames: 13 })).toBe(false);
    expect(isBusy(chunk(0, { 0: [[50, 100]], 2: [[70, 82]] }).activity, NUM_LOCAL, { from: 60, to: 100 }, { minSpeakerFrames: 12 })).toBe(true);
    expect(isBusy(chunk(0, {}).activity, NUM_LOCAL, { from: 0, to: 100 }, options)).toBe(false);
  });

  it('runs the in-between chunk only when a neighbour is busy on the frames it shares with it', () => {
    // Chunks at frames 0 and 100; the in-between one at 50 covers frames 50-100 of the left and 0-50 of the right.
    const calm = chunk(0, { 0: [[0, 100]] });
    const calmRight = chunk(100, { 1: [[0, 100]] });
    expect(needsBetweenChunk(calm, calmRight, 50, FRAMES, NUM_LOCAL, options)).toBe(false);
    // A change inside the left chunk's first half is outside the shared stretch.
    expect(needsBetweenChunk(chunk(0, { 1: [[0, 30]], 0: [[30, 100]] }), calmRight, 50, FRAMES, NUM_LOCAL, options)).toBe(false);
    // A change in the left chunk's second half, or in the right chunk's first half, is inside it.
    expect(needsBetweenChunk(chunk(0, { 1: [[0, 70]], 0: [[70, 100]] }), calmRight, 50, FRAMES, NUM_LOCAL, options)).toBe(true);
    expect(needsBetweenChunk(calm, chunk(100, { 1: [[0, 20]], 2: [[20, 100]] }), 50, FRAMES, NUM_LOCAL, options)).toBe(true);
    // ...but a change in the right chunk's second half is not.
    expect(needsBetweenChunk(calm, chunk(100, { 1: [[0, 80]], 2: [[80, 100]] }), 50, FRAMES, NUM_LOCAL, options)).toBe(false);
  });

  it('looks only at frames of real audio in a shortened last chunk', () => {
    // The right chunk has 40 frames of audio; activity past them (padding) must not count.
    const right = chunk(100, { 1: [[0, 40]], 2: [[40, 50]] }, 40);
    expect(needsBetweenChunk(chunk(0, { 0: [[0, 100]] }), right, 50, FRAMES, NUM_LOCAL, options)).toBe(false);
  });

  it('finds a steady stretch only where one chunk covers it with one local speaker alone on every frame', () => {
    // Chunk at 0: speaker 0 on 0-60, silence 60-65, speaker 1 on 65-100. Chunk at 50: silence on global frames 50-70,
    // speaker 2 on 70-100, speaker 0 on 100-150.
    const chunks = [chunk(0, { 0: [[0, 60]], 1: [[65, 100]] }), chunk(50, { 2: [[20, 50]], 0: [[50, 100]] })];
    expect(steadyIn(chunks, NUM_LOCAL, 0, 60)).toBe(true);
    expect(steadyIn(chunks, NUM_LOCAL, 55, 62)).toBe(false); // silence inside, in both chunks
    expect(steadyIn(chunks, NUM_LOCAL, 50, 70)).toBe(false); // a change then silence; silence
    expect(steadyIn(chunks, NUM_LOCAL, 100, 150)).toBe(true); // only chunk 1 covers it: speaker 0 throughout
    expect(steadyIn(chunks, NUM_LOCAL, 90, 140)).toBe(false); // change at global frame 100 in chunk 1
    expect(steadyIn(chunks, NUM_LOCAL, 140, 160)).toBe(false); // no chunk covers it
    // Overlap is not steady.
    expect(steadyIn([chunk(0, { 0: [[0, 100]], 1: [[40, 45]] })], NUM_LOCAL, 30, 50)).toBe(false);
  });

  it('interpolates every other interior window of a steady stretch, never across regions, from its two embedded neighbours', () => {
    const spans = [0, 1, 2, 3, 4, 5].map((i) => ({ region: i < 5 ? 0 : 1, from: 10 * i, to: 10 * i + 20 }));
    // Steady everywhere: windows 1 and 3 are interpolated; 4 is not (5 is in another region), 0 and 5 are ends.
    expect(Array.from(windowsToInterpolate(spans, () => true))).toEqual([0, 1, 0, 1, 0, 0]);
    // Steady only before frame 40: window 1 (stretch 0-40) only.
    expect(Array.from(windowsToInterpolate(spans, (_from, to) => to <= 40))).toEqual([0, 1, 0, 0, 0, 0]);
    expect(Array.from(windowsToInterpolate(spans, () => false))).toEqual([0, 0, 0, 0, 0, 0]);
    // Two embedded rows (2-d) around one interpolated: the normalised sum, the others as they were.
    const full = fillInterpolated(new Float32Array([1, 0, 0, 1, 0, -1]), new Uint8Array([0, 1, 0, 0]), 2);
    expect(Array.from(full)).toEqual([1, 0, Math.fround(Math.SQRT1_2), Math.fround(Math.SQRT1_2), 0, 1, 0, -1]);
  });
});
