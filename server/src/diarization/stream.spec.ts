import { OnlineFbank } from '../features/fbank';
import { AudioChunk, chunkAudio, ChunkerOptions, FbankTimeline } from './stream';

/** Samples 1..n (value = index + 1) cut into blocks of the given sizes. */
async function* blocksOf(...sizes: number[]): AsyncGenerator<Float32Array> {
  let next = 1;
  for (const size of sizes) {
    yield Float32Array.from({ length: size }, () => next++);
  }
}

async function collect(blocks: AsyncIterable<Float32Array>, options: ChunkerOptions): Promise<AudioChunk[]> {
  const chunks: AudioChunk[] = [];
  for await (const chunk of chunkAudio(blocks, options)) chunks.push(chunk);
  return chunks;
}

const WINDOW_4_STEP_2 = { windowSamples: 4, stepSamples: 2, lookaheadSamples: 0 };

describe('chunkAudio', () => {
  it('cuts overlapping windows across block boundaries, with no tail when the last window ends on the end', async () => {
    const chunks = await collect(blocksOf(3, 3, 4), WINDOW_4_STEP_2);
    expect(chunks.map((c) => c.startSample)).toEqual([0, 2, 4, 6]);
    expect(chunks.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    expect(Array.from(chunks[1].samples)).toEqual([3, 4, 5, 6]);
    expect(Array.from(chunks[3].samples)).toEqual([7, 8, 9, 10]);
    expect(chunks.every((c) => c.validSamples === 4)).toBe(true);
  });

  it('adds one zero-padded chunk for samples past the last full window', async () => {
    const chunks = await collect(blocksOf(3, 3, 5), WINDOW_4_STEP_2);
    expect(chunks.map((c) => c.startSample)).toEqual([0, 2, 4, 6, 8]);
    expect(Array.from(chunks[4].samples)).toEqual([9, 10, 11, 0]);
    expect(chunks[4].validSamples).toBe(3);
  });

  it('pads a recording shorter than one window into a single chunk, and gives none for no audio', async () => {
    const short = await collect(blocksOf(3), WINDOW_4_STEP_2);
    expect(short).toHaveLength(1);
    expect(Array.from(short[0].samples)).toEqual([1, 2, 3, 0]);
    expect(short[0].validSamples).toBe(3);
    let ended = -1;
    expect(await collect(blocksOf(), { ...WINDOW_4_STEP_2, onEnd: (n) => (ended = n) })).toEqual([]);
    expect(ended).toBe(0);
  });

  it('holds a chunk back until its lookahead has arrived, and releases the rest at the end', async () => {
    const events: string[] = [];
    const options: ChunkerOptions = {
      windowSamples: 4,
      stepSamples: 2,
      lookaheadSamples: 2,
      onBlock: (b) => events.push(`block:${b.length}`),
      onEnd: (n) => events.push(`end:${n}`),
    };
    for await (const chunk of chunkAudio(blocksOf(3, 3, 4), options)) events.push(`chunk:${chunk.startSample}`);
    // A chunk at s needs s + 4 + 2 samples: 0 after 6 samples, 2 and 4 after 10, 6 only once the stream ends.
    expect(events).toEqual(['block:3', 'block:3', 'chunk:0', 'block:4', 'chunk:2', 'chunk:4', 'end:10', 'chunk:6']);
  });
});

/** Stands in for the fbank: one row [s, -s] per accepted sample. */
class FakeFbank {
  private pending: number[] = [];
  finished = false;
  acceptWaveform(samples: Float32Array): void {
    for (const s of samples) this.pending.push(s, -s);
  }
  inputFinished(): void {
    this.finished = true;
  }
  popFrames(): Float32Array {
    const out = Float32Array.from(this.pending);
    this.pending = [];
    return out;
  }
}

describe('FbankTimeline', () => {
  it('slices frames by global index and forgets discarded ones', () => {
    const fake = new FakeFbank();
    const timeline = new FbankTimeline(fake as unknown as OnlineFbank, 2);
    timeline.accept(Float32Array.from([1, 2, 3, 4]));
    expect(timeline.endFrame).toBe(4);
    expect(Array.from(timeline.slice(1, 3))).toEqual([2, -2, 3, -3]);
    timeline.discardBefore(2);
    expect(timeline.startFrame).toBe(2);
    // Frames before the first kept one are gone; the slice is clipped to what is held.
    expect(Array.from(timeline.slice(0, 9))).toEqual([3, -3, 4, -4]);
    expect(timeline.slice(3, 2).length).toBe(0);
    timeline.finish();
    expect(fake.finished).toBe(true);
  });

  it('grows past its initial capacity without losing rows', () => {
    const timeline = new FbankTimeline(new FakeFbank() as unknown as OnlineFbank, 2);
    timeline.accept(Float32Array.from({ length: 5000 }, (_, i) => i));
    expect(timeline.endFrame).toBe(5000);
    expect(Array.from(timeline.slice(4999, 5000))).toEqual([4999, -4999]);
  });
});
