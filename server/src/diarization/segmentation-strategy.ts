import { munkres } from 'munkres';

import { throwIfAborted } from '../common/errors';
import { FrameWindow, l2Normalize } from '../embedding/embedder';
import { StrategyContext, StrategyOutput } from './context';
import { SpeakerCountAggregator } from './frames';
import { AudioChunk } from './stream';
import { clusterSpeakers, clusterTurns, processInBatches, streamChunks } from './strategy-common';

/** A (chunk, local speaker) pair that got an embedding. */
interface LocalSpeaker {
  chunk: number;
  speaker: number;
  weightSec: number;
}

/**
 * The pyannote / sherpa-onnx recipe: segmentation over sliding 10 s chunks → one embedding per
 * (chunk, local speaker) from that speaker's non-overlapped frames → clustering → constrained
 * assignment (two local speakers of one chunk never share a cluster) → frame-level reconstruction
 * that keeps up to two simultaneous speakers.
 */
export async function diarizeBySegmentation(blocks: AsyncIterable<Float32Array>, ctx: StrategyContext): Promise<StrategyOutput> {
  const { segmenter, embedder, config, timer } = ctx;
  const recipe = embedder.frontEnd.recipe;
  const bins = recipe.numMelBins;
  const { chunks, fbank, frames, stepSamples, expectedChunks } = streamChunks(blocks, ctx);
  const framesPerChunk = segmenter.framesPerChunk;
  const numLocal = segmenter.numLocalSpeakers;

  const activities: Uint8Array[] = []; // per chunk [framesPerChunk, numLocal]
  const chunkStarts: number[] = [];
  const owners: LocalSpeaker[] = [];
  const embeddingRows: Float32Array[] = []; // each [dim]
  const counts = new SpeakerCountAggregator();
  let embeddingInFlight: Promise<void> = Promise.resolve();

  const processBatch = async (batch: AudioChunk[]): Promise<void> => {
    throwIfAborted(ctx.signal, 'diarization');
    const acts = await timer.time('segmentation', () => segmenter.segment(batch.map((c) => c.samples)));
    // Gather every local speaker's frames of this batch into one matrix so windows batch well.
    const gathered: Float32Array[] = [];
    let gatheredFrames = 0;
    const windows: FrameWindow[] = [];
    const windowOwner: number[] = [];
    batch.forEach((chunk, i) => {
      const act = acts[i];
      const validFrames = Math.min(framesPerChunk, Math.ceil(chunk.validSamples / frames.segShift));
      act.fill(0, validFrames * numLocal); // padding past the end of the file is silence
      activities.push(act);
      chunkStarts.push(chunk.startSample);
      const firstGlobal = chunk.startSample / frames.segShift;
      counts.add(firstGlobal, act, validFrames, numLocal);
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
        const owner = owners.length;
        owners.push({ chunk: chunk.index, speaker: k, weightSec: (selected.length * frames.fbankShift) / 16000 });
        for (const w of speakerWindows) {
          windows.push(w);
          windowOwner.push(owner);
        }
      }
    });
    if (windows.length > 0) {
      const matrix = new Float32Array(gatheredFrames * bins); // [gatheredFrames, bins]
      let offset = 0;
      for (const g of gathered) {
        matrix.set(g, offset);
        offset += g.length;
      }
      const dim = embedder.dim;
      const firstOwner = owners.length - new Set(windowOwner).size;
      for (let o = firstOwner; o < owners.length; o++) embeddingRows.push(new Float32Array(dim));
      // Embed this batch while the next one is decoded and segmented; at most one batch in flight.
      await embeddingInFlight;
      embeddingInFlight = timer
        .time('embedding', () => embedder.embedWindows(matrix, windows, ctx.signal))
        .then((embedded) => {
          windowOwner.forEach((o, w) => {
            const row = embeddingRows[o];
            for (let d = 0; d < dim; d++) row[d] += embedded[w * dim + d];
          });
        });
      // Surface a failure now rather than at the next await (no unhandled rejection in between).
      embeddingInFlight.catch(() => undefined);
    }
    // Frames before the next chunk's start are no longer needed.
    const nextStart = batch[batch.length - 1].startSample + stepSamples;
    fbank.discardBefore(frames.fbankFramesIn(nextStart, nextStart)[0]);
    ctx.onProgress({ stage: 'segmentation', completed: activities.length, total: Math.max(expectedChunks, activities.length) });
  };

  const totalSamples = await processInBatches(chunks, config.segmentation.batchSize, processBatch);
  await embeddingInFlight;
  const durationSec = totalSamples / 16000;
  if (owners.length === 0) return { durationSec, turns: [], centroids: new Float32Array(0), numClusters: 0 };

  // Cluster the (chunk, speaker) embeddings.
  const dim = embedder.dim;
  const embeddings = new Float32Array(owners.length * dim); // [numLocalSpeakers, dim]
  embeddingRows.forEach((row, i) => embeddings.set(l2Normalize(row), i * dim));
  const clustering = await clusterSpeakers({ embeddings, dim, weights: Float32Array.from(owners, (o) => o.weightSec) }, ctx);

  return timer.time('postprocess', async () => {
    const K = clustering.numClusters;
    const assignment = constrainedAssignment(owners, embeddings, dim, clustering.centroids, K, activities.length, numLocal);
    // Aggregate clustered activity over overlapping chunks, then keep the top `count` clusters per frame.
    const totalFrames = Math.ceil(totalSamples / frames.segShift);
    const votes = new Uint8Array(totalFrames * K); // [totalFrames, K]
    activities.forEach((act, c) => {
      const firstGlobal = chunkStarts[c] / frames.segShift;
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
      const n = Math.min(counts.countAt(g), K);
      if (n === 0) continue;
      for (let k = 0; k < K; k++) order[k] = k;
      const row = votes.subarray(g * K, (g + 1) * K);
      const sorted = Array.from(order).sort((a, b) => row[b] - row[a]);
      for (let r = 0; r < n; r++) if (row[sorted[r]] > 0) active[sorted[r]][g] = 1;
    }
    const turns = clusterTurns(active, frames, ctx, durationSec);
    ctx.onProgress({ stage: 'postprocess', completed: 1, total: 1 });
    return { durationSec, turns, centroids: clustering.centroids, numClusters: K };
  });
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
