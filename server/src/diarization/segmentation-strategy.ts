import { TARGET_SAMPLE_RATE } from '../audio/sample-rate';
import { munkres } from 'munkres';

import { throwIfAborted } from '../common/errors';
import { FrameWindow } from '../embedding/embedder';
import { l2Normalize } from '../vectors/math';
import { StrategyContext, StrategyOutput } from './context';
import { FrameMapper, SpeakerCountAggregator } from './frames';
import { AudioChunk } from './stream';
import { ClusteringResult } from '../clustering';
import { clusterSpeakers, clusterTurns, EmbeddingPipeline, processInBatches, StreamedInput, streamChunks } from './strategy-common';

/** A (chunk, local speaker) pair that got an embedding. */
interface LocalSpeaker {
  chunk: number;
  speaker: number;
  weightSec: number;
}

/** What the streamed steps accumulate over the recording. */
interface SegmentationRun {
  activities: Uint8Array[]; // per chunk [framesPerChunk, numLocal]
  chunkStarts: number[];
  owners: LocalSpeaker[];
  embeddingRows: Float32Array[]; // per owner [dim], summed window embeddings
  counts: SpeakerCountAggregator;
}

/** One batch's local-speaker frames as one fbank matrix, and the windows to embed over it. */
interface GatheredFrames {
  matrix: Float32Array; // [frames, bins]
  windows: FrameWindow[];
  /** Index into `run.owners` of each window. */
  windowOwner: number[];
}

/**
 * The pyannote / sherpa-onnx recipe: segmentation over sliding 10 s chunks → one embedding per
 * (chunk, local speaker) from that speaker's non-overlapped frames → clustering → constrained
 * assignment (two local speakers of one chunk never share a cluster) → frame-level reconstruction
 * that keeps up to two simultaneous speakers.
 */
export async function diarizeBySegmentation(blocks: AsyncIterable<Float32Array>, ctx: StrategyContext): Promise<StrategyOutput> {
  const { segmenter, config, timer } = ctx;
  const { chunks, fbank, frames, stepSamples, expectedChunks } = streamChunks(blocks, ctx);
  const run: SegmentationRun = {
    activities: [],
    chunkStarts: [],
    owners: [],
    embeddingRows: [],
    counts: new SpeakerCountAggregator(config.segmentation.countRounding),
  };
  const embedding = new EmbeddingPipeline();

  const processBatch = async (batch: AudioChunk[]): Promise<void> => {
    throwIfAborted(ctx.signal, 'diarization');
    const acts = await timer.time('segmentation', () =>
      segmenter.segment(
        batch.map((c) => c.samples),
        config.segmentation,
        { chunkRms: config.segmentation.chunkRms },
      ),
    );
    const gathered = gatherLocalSpeakerFrames(batch, acts, run, fbank, frames, ctx);
    if (gathered) await embedLocalSpeakers(gathered, run, embedding, ctx);
    // Frames before the next chunk's start are no longer needed.
    const nextStart = batch[batch.length - 1].startSample + stepSamples;
    fbank.discardBefore(frames.fbankFramesIn(nextStart, nextStart)[0]);
    ctx.onProgress({ stage: 'segmentation', completed: run.activities.length, total: Math.max(expectedChunks, run.activities.length) });
  };

  const totalSamples = await processInBatches(chunks, config.segmentation.batchSize, processBatch);
  await embedding.drain();
  const durationSec = totalSamples / TARGET_SAMPLE_RATE;
  if (run.owners.length === 0) return { durationSec, turns: [], centroids: new Float32Array(0), numClusters: 0 };

  const { embeddings, clustering } = await clusterLocalSpeakers(run, ctx);
  return timer.time('postprocess', async () => {
    const active = reconstructFrames(run, embeddings, clustering, Math.ceil(totalSamples / frames.segShift), frames, ctx);
    const turns = clusterTurns(active, frames, ctx, durationSec);
    ctx.onProgress({ stage: 'postprocess', completed: 1, total: 1 });
    return { durationSec, turns, centroids: clustering.centroids, numClusters: clustering.numClusters };
  });
}

/**
 * Step 1: records each chunk's activity and speaker count, and gathers every local speaker's frames
 * of the batch (its single-speaker frames when there are enough, else all its frames) into one
 * matrix so windows batch well. Returns undefined when no local speaker has enough frames.
 */
function gatherLocalSpeakerFrames(
  batch: AudioChunk[],
  acts: Uint8Array[],
  run: SegmentationRun,
  fbank: StreamedInput['fbank'],
  frames: FrameMapper,
  ctx: StrategyContext,
): GatheredFrames | undefined {
  const { segmenter, embedder } = ctx;
  const bins = embedder.frontEnd.recipe.numMelBins;
  const framesPerChunk = segmenter.framesPerChunk;
  const numLocal = segmenter.numLocalSpeakers;
  const gathered: Float32Array[] = [];
  let gatheredFrames = 0;
  const windows: FrameWindow[] = [];
  const windowOwner: number[] = [];
  batch.forEach((chunk, i) => {
    const act = acts[i];
    const validFrames = Math.min(framesPerChunk, Math.ceil(chunk.validSamples / frames.segShift));
    act.fill(0, validFrames * numLocal); // padding past the end of the file is silence
    run.activities.push(act);
    run.chunkStarts.push(chunk.startSample);
    const firstGlobal = chunk.startSample / frames.segShift;
    run.counts.add(firstGlobal, act, validFrames, numLocal);
    const [f0, f1] = frames.fbankFramesIn(chunk.startSample, chunk.startSample + chunk.validSamples);
    const chunkFbank = fbank.slice(f0, f1);
    const usable = chunkFbank.length / bins;
    for (let k = 0; k < numLocal; k++) {
      const clean: number[] = [];
      const any: number[] = [];
      for (let f = 0; f < usable; f++) {
        const j = Math.min(framesPerChunk - 1, Math.max(0, frames.segFrameAt(frames.fbankFrameCenter(f0 + f)) - firstGlobal));
        if (!act[j * numLocal + k]) continue;
        any.push(f);
        let active = 0;
        for (let s = 0; s < numLocal; s++) active += act[j * numLocal + s];
        if (active === 1) clean.push(f);
      }
      const selected = clean.length >= embedder.frontEnd.minWindowFrames ? clean : any;
      const speakerWindows = embedder.windowsFor(selected.length, gatheredFrames);
      if (speakerWindows.length === 0) continue;
      const rows = new Float32Array(selected.length * bins);
      selected.forEach((f, r) => rows.set(chunkFbank.subarray(f * bins, (f + 1) * bins), r * bins));
      gathered.push(rows);
      gatheredFrames += selected.length;
      const owner = run.owners.length;
      run.owners.push({ chunk: chunk.index, speaker: k, weightSec: (selected.length * frames.fbankShift) / TARGET_SAMPLE_RATE });
      for (const w of speakerWindows) {
        windows.push(w);
        windowOwner.push(owner);
      }
    }
  });
  if (windows.length === 0) return undefined;
  const matrix = new Float32Array(gatheredFrames * bins);
  let offset = 0;
  for (const g of gathered) {
    matrix.set(g, offset);
    offset += g.length;
  }
  return { matrix, windows, windowOwner };
}

/**
 * Step 2: embeds the gathered windows while the next batch is decoded and segmented; each local
 * speaker's embedding is the sum of its windows' (normalised before clustering).
 */
async function embedLocalSpeakers(gathered: GatheredFrames, run: SegmentationRun, embedding: EmbeddingPipeline, ctx: StrategyContext): Promise<void> {
  const { embedder, timer } = ctx;
  const dim = embedder.dim;
  const firstOwner = run.owners.length - new Set(gathered.windowOwner).size;
  for (let o = firstOwner; o < run.owners.length; o++) run.embeddingRows.push(new Float32Array(dim));
  await embedding.submit(
    () => timer.time('embedding', () => embedder.embedWindows(gathered.matrix, gathered.windows, ctx.signal)),
    (embedded) => {
      gathered.windowOwner.forEach((o, w) => {
        const row = run.embeddingRows[o];
        for (let d = 0; d < dim; d++) row[d] += embedded[w * dim + d];
      });
    },
  );
}

/** Step 3: clusters the normalised (chunk, local speaker) embeddings, weighted by their seconds. */
async function clusterLocalSpeakers(run: SegmentationRun, ctx: StrategyContext): Promise<{ embeddings: Float32Array; clustering: ClusteringResult }> {
  const dim = ctx.embedder.dim;
  const embeddings = new Float32Array(run.owners.length * dim); // [numLocalSpeakers, dim]
  run.embeddingRows.forEach((row, i) => embeddings.set(l2Normalize(row), i * dim));
  const clustering = await clusterSpeakers({ embeddings, dim, weights: Float32Array.from(run.owners, (o) => o.weightSec) }, ctx);
  return { embeddings, clustering };
}

/**
 * Step 4: constrained assignment of local speakers to clusters, clustered activity aggregated over
 * overlapping chunks, then per frame the top `count` clusters kept. Returns per-cluster activity.
 */
function reconstructFrames(
  run: SegmentationRun,
  embeddings: Float32Array,
  clustering: ClusteringResult,
  totalFrames: number,
  frames: FrameMapper,
  ctx: StrategyContext,
): Uint8Array[] {
  const { framesPerChunk, numLocalSpeakers: numLocal } = ctx.segmenter;
  const K = clustering.numClusters;
  const assignment = constrainedAssignment(run.owners, embeddings, ctx.embedder.dim, clustering.centroids, K, run.activities.length, numLocal);
  const votes = new Uint8Array(totalFrames * K); // [totalFrames, K]
  run.activities.forEach((act, c) => {
    const firstGlobal = run.chunkStarts[c] / frames.segShift;
    for (let k = 0; k < numLocal; k++) {
      const cluster = assignment[c * numLocal + k];
      if (cluster < 0) continue;
      for (let j = 0; j < framesPerChunk; j++) {
        const g = firstGlobal + j;
        if (g < totalFrames && act[j * numLocal + k]) votes[g * K + cluster] = Math.min(255, votes[g * K + cluster] + 1);
      }
    }
  });
  const active = Array.from({ length: K }, () => new Uint8Array(totalFrames));
  const order = new Int32Array(K);
  for (let g = 0; g < totalFrames; g++) {
    const n = Math.min(run.counts.countAt(g), K);
    if (n === 0) continue;
    for (let k = 0; k < K; k++) order[k] = k;
    const row = votes.subarray(g * K, (g + 1) * K);
    const sorted = Array.from(order).sort((a, b) => row[b] - row[a]);
    for (let r = 0; r < n; r++) if (row[sorted[r]] > 0) active[sorted[r]][g] = 1;
  }
  return active;
}

/**
 * pyannote's constrained assignment: per chunk, local speakers go to distinct clusters, maximising
 * cosine similarity to the cluster centroids (Hungarian algorithm). Returns [numChunks * numLocal]
 * cluster indices, -1 where a local speaker had no embedding or no cluster was left.
 */
function constrainedAssignment(
  owners: LocalSpeaker[],
  embeddings: Float32Array,
  dim: number,
  centroids: Float32Array,
  K: number,
  numChunks: number,
  numLocal: number,
): Int32Array {
  const assignment = new Int32Array(numChunks * numLocal).fill(-1);
  let i = 0;
  while (i < owners.length) {
    let j = i;
    while (j < owners.length && owners[j].chunk === owners[i].chunk) j++;
    const members = owners.slice(i, j).map((o, m) => ({ owner: o, row: i + m }));
    // Cost = 1 - cosine; munkres minimises.
    const cost = members.map(({ row }) => {
      const costs: number[] = [];
      for (let k = 0; k < K; k++) {
        let dot = 0;
        for (let d = 0; d < dim; d++) dot += embeddings[row * dim + d] * centroids[k * dim + d];
        costs.push(1 - dot);
      }
      return costs;
    });
    for (const [m, k] of munkres(cost)) assignment[members[m].owner.chunk * numLocal + members[m].owner.speaker] = k;
    i = j;
  }
  return assignment;
}
