import { TARGET_SAMPLE_RATE } from '../audio/sample-rate';
import { throwIfAborted } from '../common/errors';
import { FrameWindow } from '../embedding/embedder';
import type { PowersetDecoding } from '../segmentation/segmenter';
import { StrategyContext, StrategyOutput } from './context';
import { SpeakerCountAggregator } from './frames';
import { fillInterpolated, needsBetweenChunk, SegmentedChunk, steadyIn, WindowSpan, windowsToInterpolate } from './adaptive-step';
import { ChunkActivity, mappedClusterVotes, secondSpeakerAt, topTwoAt } from './local-speakers';
import { AudioChunk } from './stream';
import { clusterSpeakers, clusterTurns, EmbeddingPipeline, processInBatchesAhead, streamChunks } from './strategy-common';

/** Longest speech region embedded in one piece; longer ones are split so memory stays flat. */
const MAX_REGION_SEC = 60;
/** Chunks searched for a steady stretch: a region's windows lie within its last MAX_REGION_SEC (12 chunks at a 5 s step). */
const STEADY_LOOKBACK_CHUNKS = 32;

/** A window's place on the segmentation frame grid, kept for labelling frames after clustering. */
interface PlacedWindow {
  centerFrame: number;
  region: number;
}

/**
 * The product's original design: speech regions (from the segmentation model) → uniform windows →
 * embeddings → clustering → each speech frame takes the label of the nearest window; frames the
 * segmentation marks as overlapped get a second speaker: by default the global cluster of the chunk's
 * other active local speaker (local-speakers.ts), else the nearest different one in time.
 */
export async function diarizeByWindows(blocks: AsyncIterable<Float32Array>, ctx: StrategyContext): Promise<StrategyOutput> {
  const { segmenter, embedder, config, timer } = ctx;
  const dim = embedder.dim;
  const { chunks, fbank, frames, stepSamples, expectedChunks } = streamChunks(blocks, ctx);
  const numLocal = segmenter.numLocalSpeakers;
  const maxRegionFrames = Math.round((MAX_REGION_SEC * TARGET_SAMPLE_RATE) / frames.segShift);

  const counts = new SpeakerCountAggregator(config.segmentation.countRounding);
  // What is embedded follows config.segmentation's decoding; frames may be labelled from more liberal ones.
  const { maxNonSpeechProbability, minOverlapProbability } = config.turns;
  const decodings: PowersetDecoding[] = [config.segmentation];
  const speechDecoding = maxNonSpeechProbability === null ? 0 : decodings.push({ ...config.segmentation, maxNonSpeechProbability }) - 1;
  const overlapDecoding = minOverlapProbability === null ? 0 : decodings.push({ ...config.segmentation, minOverlapProbability }) - 1;
  const decodedCounts = decodings.map((_, d) => (d === 0 ? counts : new SpeakerCountAggregator(config.segmentation.countRounding)));
  const speechCounts = decodedCounts[speechDecoding];
  const overlapCounts = decodedCounts[overlapDecoding];
  const regions: [number, number][] = []; // [startFrame, endFrame) on the segmentation grid
  const placed: PlacedWindow[] = [];
  const embeddingChunks: Float32Array[] = [];
  const chunkActivities: ChunkActivity[] = []; // kept for the overlap assignment (1.8 kB per chunk)
  const useLocalSpeakers = config.turns.overlapAssignment === 'local-speakers';
  const keepActivities = useLocalSpeakers || config.embedding.interpolateSteady;
  let scannedUpTo = 0; // segmentation frames before this are final and scanned
  let openStart = -1; // start of the speech region being scanned, -1 if none
  let numChunks = 0;
  const embedding = new EmbeddingPipeline();

  /** Windows [firstPlaced, firstPlaced + windows.length) of `placed` as spans on the segmentation grid. */
  const windowSpans = (windows: readonly FrameWindow[], firstPlaced: number): WindowSpan[] =>
    windows.map((w, i) => ({
      region: placed[firstPlaced + i].region,
      from: frames.segFrameAt(frames.fbankFrameCenter(w.startFrame)),
      to: frames.segFrameAt(frames.fbankFrameCenter(w.startFrame + w.numFrames - 1)) + 1,
    }));
  /** One voice alone throughout [from, to) in one chunk: regions close within a minute, so the last chunks recorded hold it. */
  const steady = (from: number, to: number): boolean => steadyIn(chunkActivities.slice(-STEADY_LOOKBACK_CHUNKS), numLocal, from, to);

  const embedRegions = async (newRegions: [number, number][]): Promise<void> => {
    const windows: FrameWindow[] = [];
    for (const [g0, g1] of newRegions) {
      const region = regions.length;
      regions.push([g0, g1]);
      const [f0, f1] = frames.fbankFramesIn(frames.segFrameCenter(g0) - frames.segShift / 2, frames.segFrameCenter(g1 - 1) + frames.segShift / 2);
      for (const w of embedder.windowsFor(f1 - f0, f0)) {
        windows.push(w);
        const centerSample = frames.fbankFrameCenter(w.startFrame + w.numFrames / 2);
        placed.push({ centerFrame: Math.round((centerSample - frames.segField / 2) / frames.segShift), region });
      }
    }
    if (windows.length === 0) return;
    const first = windows[0].startFrame;
    const last = Math.max(...windows.map((w) => w.startFrame + w.numFrames));
    const matrix = fbank.slice(first, last).slice(); // a copy: the timeline moves on meanwhile
    // Steady stretches of one voice: every other interior window takes its neighbours' mean (adaptive-step.ts).
    const skip = config.embedding.interpolateSteady
      ? windowsToInterpolate(windowSpans(windows, placed.length - windows.length), steady)
      : new Uint8Array(windows.length);
    const local = windows.flatMap((w, i) => (skip[i] ? [] : [{ startFrame: w.startFrame - first, numFrames: w.numFrames }]));
    // Embed while the next chunks are decoded and segmented; at most one batch in flight, results in order.
    const slot = embeddingChunks.length;
    embeddingChunks.push(new Float32Array(0));
    await embedding.submit(
      () => timer.time('embedding', () => embedder.embedWindows(matrix, local, ctx.signal)),
      (embedded) => {
        embeddingChunks[slot] = fillInterpolated(embedded, skip, dim);
      },
    );
  };

  /** Scans final frames [scannedUpTo, upTo) for speech regions that have ended. */
  const scan = async (upTo: number, atEnd: boolean): Promise<void> => {
    const closed: [number, number][] = [];
    for (let g = scannedUpTo; g < upTo; g++) {
      const speech = counts.countAt(g) > 0;
      if (speech && openStart < 0) openStart = g;
      if (openStart >= 0 && (!speech || g - openStart >= maxRegionFrames)) {
        closed.push([openStart, g]);
        openStart = speech ? g : -1;
      }
    }
    scannedUpTo = Math.max(scannedUpTo, upTo);
    if (atEnd && openStart >= 0) {
      closed.push([openStart, upTo]);
      openStart = -1;
    }
    await embedRegions(closed);
    const keepFrom = openStart >= 0 ? openStart : scannedUpTo;
    fbank.discardBefore(frames.fbankFramesIn(frames.segFrameCenter(keepFrom) - frames.segShift, 0)[0]);
  };

  const adaptive = config.segmentation.adaptiveStep;
  /** Per chunk of the batch, its activity under each of `decodings` (one model run; [0] is what is embedded). */
  const segmentChunks = async (batch: readonly AudioChunk[]): Promise<Uint8Array[][]> => {
    const decoded = await timer.time('segmentation', () =>
      segmenter.segmentDecodings(
        batch.map((c) => c.samples),
        decodings,
        { chunkRms: config.segmentation.chunkRms },
      ),
    );
    return batch.map((_, i) => decoded.map((d) => d[i]));
  };
  const record = (chunk: AudioChunk, activities: Uint8Array[]): SegmentedChunk => {
    const segmented = {
      firstFrame: chunk.startSample / frames.segShift,
      activity: activities[0],
      numFrames: Math.min(segmenter.framesPerChunk, Math.ceil(chunk.validSamples / frames.segShift)),
    };
    activities.forEach((a, k) => decodedCounts[k].add(segmented.firstFrame, a, segmented.numFrames, numLocal));
    if (keepActivities) chunkActivities.push(segmented);
    return segmented;
  };
  const reportProgress = (consumed: number): void => {
    numChunks += consumed;
    ctx.onProgress({ stage: 'segmentation', completed: numChunks, total: Math.max(expectedChunks, numChunks) });
  };

  const startBatch = (batch: AudioChunk[]): Promise<Uint8Array[][]> => {
    throwIfAborted(ctx.signal, 'diarization');
    return segmentChunks(adaptive ? batch.filter((c) => c.index % 2 === 0) : batch);
  };

  const processBatch = async (batch: AudioChunk[], acts: Uint8Array[][]): Promise<void> => {
    batch.forEach((chunk, i) => record(chunk, acts[i]));
    // Frames before the next chunk's start get no more votes.
    const nextStart = batch[batch.length - 1].startSample + stepSamples;
    await scan(Math.floor(nextStart / frames.segShift), false);
    reportProgress(batch.length);
  };

  // Adaptive step: even chunks always, an odd one only where its neighbours are busy (adaptive-step.ts).
  const toFrames = (sec: number): number => Math.max(1, Math.round((sec * TARGET_SAMPLE_RATE) / frames.segShift));
  const { adaptiveMinSpeakerSec, adaptiveMinSilenceSec } = config.segmentation;
  const busy = {
    minSpeakerFrames: toFrames(adaptiveMinSpeakerSec),
    minSilenceFrames: adaptiveMinSilenceSec === undefined ? undefined : toFrames(adaptiveMinSilenceSec),
  };
  let leftPrimary: SegmentedChunk | undefined;
  let waiting: AudioChunk | undefined; // an odd chunk until its right neighbour is segmented
  const processAdaptive = async (batch: AudioChunk[], acts: Uint8Array[][]): Promise<void> => {
    const between: AudioChunk[] = [];
    let p = 0;
    for (const chunk of batch) {
      if (chunk.index % 2 === 1) {
        waiting = chunk;
        continue;
      }
      const right = record(chunk, acts[p++]);
      if (waiting && leftPrimary && needsBetweenChunk(leftPrimary, right, waiting.startSample / frames.segShift, segmenter.framesPerChunk, numLocal, busy))
        between.push(waiting);
      waiting = undefined;
      leftPrimary = right;
    }
    if (between.length > 0) {
      const betweenActs = await segmentChunks(between);
      between.forEach((chunk, i) => record(chunk, betweenActs[i]));
    }
    // Frames before the next chunk's start (or the waiting one's) get no more votes.
    const nextStart = waiting ? waiting.startSample : batch[batch.length - 1].startSample + stepSamples;
    await scan(Math.floor(nextStart / frames.segShift), false);
    reportProgress(batch.length);
  };

  const totalSamples = await processInBatchesAhead(
    chunks,
    adaptive ? 2 * config.segmentation.batchSize : config.segmentation.batchSize,
    startBatch,
    adaptive ? processAdaptive : processBatch,
  );
  if (waiting) {
    // The last chunk, odd: it covers the end of the recording past the last even one.
    const [activities] = await segmentChunks([waiting]);
    record(waiting, activities);
  }
  const totalFrames = Math.ceil(totalSamples / frames.segShift);
  await scan(totalFrames, true);
  await embedding.drain();
  const durationSec = totalSamples / TARGET_SAMPLE_RATE;
  if (placed.length === 0) return { durationSec, turns: [], centroids: new Float32Array(0), numClusters: 0 };

  const embeddings = new Float32Array(placed.length * dim); // [numWindows, dim]
  let offset = 0;
  for (const e of embeddingChunks) {
    embeddings.set(e, offset);
    offset += e.length;
  }
  const clustering = await clusterSpeakers(
    // Each window stands for one hop of speech: weights in seconds, like the other strategy's.
    { embeddings, dim, weights: new Float32Array(placed.length).fill(embedder.frontEnd.hopFrames / 100) },
    ctx,
  );

  return timer.time('postprocess', async () => {
    const K = clustering.numClusters;
    const labels = clustering.labels;
    const active = Array.from({ length: K }, () => new Uint8Array(totalFrames));
    // First speaker of each speech frame: the label of the nearest window (windows are in time order:
    // walk them alongside the frames of each region).
    const first = new Int32Array(totalFrames).fill(-1);
    const nearestOf = new Int32Array(totalFrames).fill(-1);
    let w = 0;
    regions.forEach(([g0, g1], region) => {
      while (w < placed.length && placed[w].region < region) w++;
      const from = w;
      let to = w;
      while (to < placed.length && placed[to].region === region) to++;
      for (let g = g0; g < g1; g++) {
        const nearest = nearestWindow(placed, from, to, g) ?? nearestWindow(placed, 0, placed.length, g);
        if (nearest === undefined) continue;
        nearestOf[g] = nearest;
        first[g] = labels[nearest];
        active[first[g]][g] = 1;
      }
    });
    if (speechCounts !== counts) {
      // Speech only the liberal decoding finds (turns.maxNonSpeechProbability): the nearest window's speaker.
      for (let g = 0; g < totalFrames; g++) {
        if (first[g] >= 0 || speechCounts.countAt(g) === 0) continue;
        const nearest = nearestWindow(placed, 0, placed.length, g);
        if (nearest === undefined) continue;
        nearestOf[g] = nearest;
        first[g] = labels[nearest];
        active[first[g]][g] = 1;
      }
    }
    const votes = useLocalSpeakers && K > 1 ? mappedClusterVotes(chunkActivities, numLocal, K, totalFrames, (g) => first[g]) : undefined;
    if (K > 1) {
      for (let g = 0; g < totalFrames; g++) {
        if (first[g] < 0 || overlapCounts.countAt(g) < 2) continue;
        // Two mapped clusters active here: they are the pair (the first speaker may change too).
        const pair = votes && topTwoAt(votes, K, g);
        if (pair) {
          active[first[g]][g] = 0;
          active[pair[0]][g] = 1;
          active[pair[1]][g] = 1;
          continue;
        }
        const second = (votes && secondSpeakerAt(votes, K, g, first[g])) ?? nearestOtherSpeaker(placed, labels, nearestOf[g], first[g]);
        if (second !== undefined) active[second][g] = 1;
      }
    }
    const turns = clusterTurns(active, frames, ctx, durationSec);
    ctx.onProgress({ stage: 'postprocess', completed: 1, total: 1 });
    return { durationSec, turns, centroids: clustering.centroids, numClusters: K };
  });
}

/** Index in [from, to) of the window whose centre is nearest to frame g (windows sorted by centre). */
function nearestWindow(placed: PlacedWindow[], from: number, to: number, g: number): number | undefined {
  if (from >= to) return undefined;
  let lo = from;
  let hi = to - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (placed[mid].centerFrame < g) lo = mid + 1;
    else hi = mid;
  }
  if (lo > from && Math.abs(placed[lo - 1].centerFrame - g) <= Math.abs(placed[lo].centerFrame - g)) return lo - 1;
  return lo;
}

/** The label of the closest window in time (either side) whose speaker differs from `speaker`. */
function nearestOtherSpeaker(placed: PlacedWindow[], labels: Int32Array, index: number, speaker: number): number | undefined {
  const center = placed[index].centerFrame;
  let best: number | undefined;
  let bestDistance = Infinity;
  for (let i = index - 1; i >= 0 && center - placed[i].centerFrame < bestDistance; i--) {
    if (labels[i] !== speaker) {
      best = labels[i];
      bestDistance = center - placed[i].centerFrame;
      break;
    }
  }
  for (let i = index + 1; i < placed.length && placed[i].centerFrame - center < bestDistance; i++) {
    if (labels[i] !== speaker) {
      best = labels[i];
      break;
    }
  }
  return best;
}
