import { ProgressEvent } from '../common/progress';
import { DIGITAL_SILENCE_PEAK } from '../segmentation/segmenter';
import { delayOutput, firstNonSilentSample, progressPastSilence, skipLeadingSilence } from './anchor';
import { StrategyOutput } from './context';

async function* stream(blocks: Float32Array[], pulled: number[] = []): AsyncGenerator<Float32Array> {
  for (const [i, block] of blocks.entries()) {
    pulled.push(i);
    yield block;
  }
}

async function collect(blocks: AsyncIterable<Float32Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const b of blocks) out.push(...b);
  return out;
}

describe('firstNonSilentSample', () => {
  it('passes samples within ±2 LSB of 16-bit and stops at the first one beyond', () => {
    expect(firstNonSilentSample(new Float32Array([0, 1 / 32768, -DIGITAL_SILENCE_PEAK, DIGITAL_SILENCE_PEAK, 0]))).toBe(-1);
    expect(firstNonSilentSample(new Float32Array([0, 0, -DIGITAL_SILENCE_PEAK * 1.01, 0.5]))).toBe(2);
    expect(firstNonSilentSample(new Float32Array([0.25]))).toBe(0);
  });

  it('keeps low-level noise: a -66 dBFS hiss is not digital silence', () => {
    const hiss = Float32Array.from({ length: 1600 }, (_, i) => 5e-4 * Math.sin(i * 1.7));
    expect(firstNonSilentSample(hiss)).toBe(1);
  });
});

describe('skipLeadingSilence', () => {
  it('drops silent blocks and the silent head of the first voiced one, and hands on the rest unchanged', async () => {
    const pulled: number[] = [];
    const blocks = [new Float32Array(4), new Float32Array([0, 0, 0.5, 0.25]), new Float32Array([0, 0.1]), new Float32Array([0.2])];
    const anchored = await skipLeadingSilence(stream(blocks, pulled));
    expect(anchored.leadSamples).toBe(6);
    expect(anchored.silent).toBe(false);
    // Nothing past the block holding the first voiced sample is read before the rest is asked for.
    expect(pulled).toEqual([0, 1]);
    expect(await collect(anchored.blocks)).toEqual([0.5, 0.25, 0, 0.1, 0.2].map(Math.fround));
    expect(pulled).toEqual([0, 1, 2, 3]);
  });

  it('drops nothing from a stream that starts with sound (a silent middle stays)', async () => {
    const blocks = [new Float32Array([0.1, 0]), new Float32Array(3), new Float32Array([0.3])];
    const anchored = await skipLeadingSilence(stream(blocks));
    expect(anchored.leadSamples).toBe(0);
    expect(await collect(anchored.blocks)).toEqual([0.1, 0, 0, 0, 0, 0.3].map(Math.fround));
  });

  it('drops whole steps only, handing on the exact silent samples between the last step boundary and the onset', async () => {
    const faint = [1e-5, -1e-5, 2e-5, 0, 3e-5].map(Math.fround);
    const anchored = await skipLeadingSilence(stream([Float32Array.from(faint), new Float32Array([0, 2e-5, 0.5, 0.25])]), { stepSamples: 4 });
    // Onset at sample 7: one step of 4 dropped, samples 4..6 kept.
    expect(anchored.leadSamples).toBe(4);
    expect(await collect(anchored.blocks)).toEqual([faint[4], 0, 2e-5, 0.5, 0.25].map(Math.fround));
  });

  it('hands on kept silence that spans earlier blocks', async () => {
    const anchored = await skipLeadingSilence(stream([new Float32Array(3), new Float32Array([1e-5, 0, 0]), new Float32Array([0, 0.5])]), { stepSamples: 8 });
    expect(anchored.leadSamples).toBe(0);
    expect(await collect(anchored.blocks)).toEqual([0, 0, 0, 1e-5, 0, 0, 0, 0.5].map(Math.fround));
  });

  it('keeps the grid of a recording whose lead is shorter than a step (a dev clip starting with 3 near-zero samples)', async () => {
    const block = new Float32Array([0, 1 / 32768, 0, 0.3, 0.1]);
    const anchored = await skipLeadingSilence(stream([block]), { stepSamples: 160 });
    expect(anchored.leadSamples).toBe(0);
    expect(await collect(anchored.blocks)).toEqual(Array.from(block));
  });

  it('reports a wholly silent stream with all of it as lead and nothing left', async () => {
    const anchored = await skipLeadingSilence(stream([new Float32Array(5), new Float32Array(7)]));
    expect(anchored).toMatchObject({ leadSamples: 12, silent: true });
    expect(await collect(anchored.blocks)).toEqual([]);
  });

  it('closes the source when the rest is abandoned (a failed run stops the decoder)', async () => {
    let closed = false;
    async function* source(): AsyncGenerator<Float32Array> {
      try {
        yield new Float32Array([0, 0.5]);
        yield new Float32Array([0.5]);
        yield new Float32Array([0.5]);
      } finally {
        closed = true;
      }
    }
    const anchored = await skipLeadingSilence(source());
    for await (const block of anchored.blocks) {
      expect(block[0]).toBeCloseTo(0.5);
      break;
    }
    expect(closed).toBe(true);
  });
});

describe('delayOutput', () => {
  const output: StrategyOutput = {
    durationSec: 28.5,
    turns: [
      { cluster: 0, startSec: 0, endSec: 2.25 },
      { cluster: 1, startSec: 2, endSec: 28.5 },
    ],
    centroids: new Float32Array([1, 0]),
    numClusters: 2,
  };

  it('moves every turn and the duration by the dropped silence, leaving speakers alone', () => {
    const delayed = delayOutput(output, 1.5);
    expect(delayed.durationSec).toBe(30);
    expect(delayed.turns).toEqual([
      { cluster: 0, startSec: 1.5, endSec: 3.75 },
      { cluster: 1, startSec: 3.5, endSec: 30 },
    ]);
    expect(delayed.centroids).toBe(output.centroids);
    expect(delayed.numClusters).toBe(2);
    expect(output.turns[0].startSec).toBe(0);
  });

  it('returns the output itself when nothing was dropped', () => {
    expect(delayOutput(output, 0)).toBe(output);
  });
});

describe('progressPastSilence', () => {
  it('counts the skipped chunks as done in the segmentation stage only', () => {
    const events: ProgressEvent[] = [];
    const report = progressPastSilence((e) => events.push(e), 3);
    report({ stage: 'segmentation', completed: 1, total: 4 });
    report({ stage: 'segmentation', completed: 4, total: 4 });
    report({ stage: 'clustering', completed: 1, total: 1 });
    expect(events).toEqual([
      { stage: 'segmentation', completed: 4, total: 7 },
      { stage: 'segmentation', completed: 7, total: 7 },
      { stage: 'clustering', completed: 1, total: 1 },
    ]);
  });
});
