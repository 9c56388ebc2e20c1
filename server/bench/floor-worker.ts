/**
 * The floor of bench:pipeline: the two models alone, one after the other, on the chunks and windows the
 * pipeline would give them, each with all of `threads` (intra-op) on the main thread. Only the model
 * calls are timed: decoding, fbank and clustering are done beforehand or skipped, so the pipeline's time
 * over this is what the glue, the streaming and the other stages cost. Prints one JSON line.
 *
 *   node --import tsx server/bench/floor-worker.ts '{"file": "dense.wav", "threads": 2}'
 */
import { decodeToArray, TARGET_SAMPLE_RATE } from '../src/audio';
import { chunkStepSecFor, parseDiarizationConfig } from '../src/diarization/config';
import { FrameMapper, SpeakerCountAggregator } from '../src/diarization/frames';
import { chunkAudio, type AudioChunk } from '../src/diarization/stream';
import { FrameWindow, SpeakerEmbedder } from '../src/embedding/embedder';
import { computeFbank } from '../src/features/fbank';
import { resolveSegmentationModel } from '../src/models/resolve';
import { selectSegmentationVariant, type SegmentationVariantChoice } from '../src/models/segmentation-variants';
import { Segmenter } from '../src/segmentation/segmenter';

export interface FloorWorkerArgs {
  file: string;
  threads: number;
  chunkStepSec?: number;
  segmentationVariant?: SegmentationVariantChoice;
}

export interface FloorWorkerResult {
  segmentationSec: number;
  embeddingSec: number;
  chunks: number;
  windows: number;
  audioSec: number;
  segmentationVariant: string;
  embeddingVariant: string;
}

/** As windows-strategy.ts: speech regions are split so no region is longer than this. */
const MAX_REGION_SEC = 60;

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as FloorWorkerArgs;
  const config = parseDiarizationConfig({
    threads: args.threads,
    segmentation: { chunkStepSec: args.chunkStepSec, variant: args.segmentationVariant },
  });
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const embedder = await SpeakerEmbedder.loadNamed(config.embeddingModel, config.embedding.variant, {
    intraOpThreads: args.threads,
    batchSize: config.embedding.batchSize,
    log,
  });
  const segmentation = selectSegmentationVariant(resolveSegmentationModel(config.segmentationModel), config.segmentation.variant);
  const segmenter = await Segmenter.load(segmentation.model, { intraOpThreads: args.threads, log, variant: segmentation.variant });
  const samples = await decodeToArray(args.file);
  const frames = new FrameMapper(segmenter, embedder.frontEnd.recipe);
  const stepSamples = Math.max(1, Math.round((chunkStepSecFor(config) * TARGET_SAMPLE_RATE) / frames.segShift)) * frames.segShift;

  // Segmentation: the same chunks and batches as the pipeline.
  const counts = new SpeakerCountAggregator();
  let segmentationSec = 0;
  let numChunks = 0;
  const segmentBatch = async (batch: AudioChunk[]): Promise<void> => {
    const started = performance.now();
    const acts = await segmenter.segment(batch.map((c) => c.samples));
    segmentationSec += (performance.now() - started) / 1000;
    batch.forEach((chunk, i) => {
      const validFrames = Math.min(segmenter.framesPerChunk, Math.ceil(chunk.validSamples / frames.segShift));
      counts.add(chunk.startSample / frames.segShift, acts[i], validFrames, segmenter.numLocalSpeakers);
    });
    numChunks += batch.length;
  };
  let batch: AudioChunk[] = [];
  for await (const chunk of chunkAudio(oneBlock(samples), { windowSamples: segmenter.windowSamples, stepSamples, lookaheadSamples: 0 })) {
    batch.push(chunk);
    if (batch.length === config.segmentation.batchSize) {
      await segmentBatch(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await segmentBatch(batch);
  await segmenter.release();

  // Embedding: windows over the speech regions, sent in the groups the pipeline sends them (the regions
  // that end within one batch of chunks), untimed fbank.
  const fbank = computeFbank(embedder.prepareSamples(samples), embedder.frontEnd.recipe);
  const totalFrames = Math.ceil(samples.length / frames.segShift);
  const maxRegionFrames = Math.round((MAX_REGION_SEC * TARGET_SAMPLE_RATE) / frames.segShift);
  const groupFrames = Math.round((config.segmentation.batchSize * stepSamples) / frames.segShift);
  const groups = new Map<number, FrameWindow[]>();
  let open = -1;
  const close = (g0: number, g1: number): void => {
    const [f0, f1] = frames.fbankFramesIn(frames.segFrameCenter(g0) - frames.segShift / 2, frames.segFrameCenter(g1 - 1) + frames.segShift / 2);
    const key = Math.floor(g1 / groupFrames);
    const group = groups.get(key) ?? [];
    group.push(...embedder.windowsFor(f1 - f0, f0));
    groups.set(key, group);
  };
  for (let g = 0; g < totalFrames; g++) {
    const speech = counts.countAt(g) > 0;
    if (speech && open < 0) open = g;
    if (open >= 0 && (!speech || g - open >= maxRegionFrames)) {
      close(open, g);
      open = speech ? g : -1;
    }
  }
  if (open >= 0) close(open, totalFrames);
  const bins = embedder.frontEnd.recipe.numMelBins;
  let embeddingSec = 0;
  let numWindows = 0;
  for (const windows of groups.values()) {
    if (windows.length === 0) continue;
    const first = windows[0].startFrame;
    const last = Math.max(...windows.map((w) => w.startFrame + w.numFrames));
    const matrix = fbank.slice(first * bins, last * bins);
    const local = windows.map((w) => ({ startFrame: w.startFrame - first, numFrames: w.numFrames }));
    const started = performance.now();
    await embedder.embedWindows(matrix, local);
    embeddingSec += (performance.now() - started) / 1000;
    numWindows += windows.length;
  }
  await embedder.release();
  const result: FloorWorkerResult = {
    segmentationSec,
    embeddingSec,
    chunks: numChunks,
    windows: numWindows,
    audioSec: samples.length / TARGET_SAMPLE_RATE,
    segmentationVariant: segmenter.variant,
    embeddingVariant: embedder.variant,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function* oneBlock(samples: Float32Array): AsyncGenerator<Float32Array> {
  yield samples;
}

// Only when run as a script: bench:pipeline imports the argument and result types.
if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
