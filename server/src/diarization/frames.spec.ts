import { FBANK_RECIPES, FbankRecipe } from '../features/fbank';
import { FrameBytes, FrameMapper, SpeakerCountAggregator } from './frames';

// pyannote segmentation-3.0 grid: 270-sample shift, 991-sample receptive field; Kaldi fbank: 25 ms / 10 ms at 16 kHz.
const SEGMENTER = { frameShiftSamples: 270, receptiveFieldSamples: 991 };
const RECIPE: FbankRecipe = { ...FBANK_RECIPES['sherpa-onnx'], sampleRate: 16000, frameLengthMs: 25, frameShiftMs: 10, snipEdges: false };

describe('FrameMapper', () => {
  const mapper = new FrameMapper(SEGMENTER, RECIPE);

  it('derives the fbank shift and frame centre from the recipe', () => {
    expect(mapper.fbankShift).toBe(160);
    expect(mapper.fbankCenterOffset).toBe(80); // snip_edges=false: shift / 2
    expect(new FrameMapper(SEGMENTER, { ...RECIPE, snipEdges: true }).fbankCenterOffset).toBe(200); // length / 2
    expect(mapper.fbankFrameCenter(3)).toBe(3 * 160 + 80);
  });

  it('maps segmentation frames to sample centres and back', () => {
    expect(mapper.segFrameCenter(2)).toBe(2 * 270 + 991 / 2);
    // Frame g's central stretch starts at g*270 + (991-270)/2 = g*270 + 360.5.
    expect(mapper.segFrameAt(360)).toBe(-1);
    expect(mapper.segFrameAt(360.5)).toBe(0);
    expect(mapper.segFrameAt(630)).toBe(0);
    expect(mapper.segFrameAt(630.5)).toBe(1);
  });

  it('lists the fbank frames whose centres fall in a sample range', () => {
    expect(mapper.fbankFramesIn(0, 400)).toEqual([0, 2]); // centres 80, 240 (400 is outside)
    expect(mapper.fbankFramesIn(100, 250)).toEqual([1, 2]); // centre 240 only
    expect(mapper.fbankFramesIn(300, 200)).toEqual([2, 2]); // reversed range is empty, never negative
  });

  it('expresses the segmentation grid in seconds', () => {
    expect(mapper.segGrid.stepSec).toBeCloseTo(270 / 16000, 12);
    expect(mapper.segGrid.offsetSec).toBeCloseTo(360.5 / 16000, 12);
  });
});

describe('FrameBytes', () => {
  it('reads 0 past the end, grows on demand and saturates at 255', () => {
    const bytes = new FrameBytes();
    expect(bytes.get(5)).toBe(0);
    bytes.add(70_000, 3); // beyond the initial 65536 capacity
    expect(bytes.length).toBe(70_001);
    expect(bytes.get(70_000)).toBe(3);
    for (let i = 0; i < 300; i++) bytes.add(1, 1);
    expect(bytes.get(1)).toBe(255);
    expect(bytes.view().length).toBe(70_001);
  });
});

describe('SpeakerCountAggregator', () => {
  it('averages active local speakers over the chunks covering each frame', () => {
    const agg = new SpeakerCountAggregator();
    // Chunk A covers frames 0-1 (3 local speakers): frame 0 one speaker, frame 1 two.
    agg.add(0, Uint8Array.from([1, 0, 0, 1, 1, 0]), 2, 3);
    // Chunk B covers frames 1-2: frame 1 one speaker, frame 2 silence.
    agg.add(1, Uint8Array.from([1, 0, 0, 0, 0, 0]), 2, 3);
    expect(agg.coverage.get(1)).toBe(2);
    expect(agg.activeSum.get(1)).toBe(3);
    expect(agg.countAt(0)).toBe(1);
    expect(agg.countAt(1)).toBe(2); // 3 / 2 = 1.5 rounds half to even: 2
    expect(agg.countAt(2)).toBe(0);
    expect(agg.countAt(9)).toBe(0); // not covered
  });

  it('rounds a 1-of-2 vote to 0 and caps the count at 2', () => {
    const agg = new SpeakerCountAggregator();
    agg.add(0, Uint8Array.from([1, 0]), 1, 2);
    agg.add(0, Uint8Array.from([0, 0]), 1, 2);
    expect(agg.countAt(0)).toBe(0); // 0.5 → 0
    agg.add(5, Uint8Array.from([1, 1, 1]), 1, 3);
    expect(agg.countAt(5)).toBe(2);
  });

  it('half-up rounding: 1 of 2 chunks saying speech is speech, and one overlap vote of two makes 2', () => {
    const agg = new SpeakerCountAggregator('half-up');
    agg.add(0, Uint8Array.from([1, 0, 1, 1]), 2, 2); // frame 0: one speaker; frame 1: two
    agg.add(0, Uint8Array.from([0, 0, 1, 0]), 2, 2); // frame 0: silence; frame 1: one speaker
    expect(agg.countAt(0)).toBe(1); // 0.5 → 1
    expect(agg.countAt(1)).toBe(2); // 1.5 → 2
    agg.add(4, Uint8Array.from([1, 0]), 1, 2);
    for (let i = 0; i < 3; i++) agg.add(4, Uint8Array.from([0, 0]), 1, 2);
    expect(agg.countAt(4)).toBe(0); // 1 of 4 (step 2.5 s) stays silence
  });
});
