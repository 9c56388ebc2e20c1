/**
 * bench:segmentation — ms per 10 s chunk of each segmentation variant (the shipped INT8, its float and mixed
 * copies from `npm run models:build`) in onnxruntime-node on one thread: all loaded in this process, timed in
 * turns on the same real chunks (dev diarization clips), mean per chunk, best of N passes, so load from other work
 * on the machine falls on both alike. Also prints the share of frames whose decoded activity agrees.
 *
 *   npm run bench:segmentation -- [--repeat 10] [--threads 1]
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { runCli } from '../src/cli/common';
import { devDataDir } from '../src/common/paths';
import { resolveSegmentationModel } from '../src/models/resolve';
import { selectSegmentationVariant, type SegmentationVariant } from '../src/models/segmentation-variants';
import { Segmenter } from '../src/segmentation/segmenter';
import { machineSummary, numberArg } from './common';
import { readWavMono16 } from './wav';

const VARIANTS: readonly SegmentationVariant[] = ['int8', 'float', 'mixed'];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { repeat: { type: 'string', default: '10' }, threads: { type: 'string', default: '1' } } });
  const repeat = numberArg(values.repeat, '--repeat', 'positive-int')!;
  const threads = numberArg(values.threads, '--threads', 'positive-int')!;
  console.log(machineSummary());
  const base = resolveSegmentationModel();
  const segmenters = await Promise.all(
    VARIANTS.map(async (v) => {
      const chosen = selectSegmentationVariant(base, v);
      return Segmenter.load(chosen.model, { intraOpThreads: threads, variant: v, log: () => undefined });
    }),
  );
  const dir = path.join(devDataDir, 'diarization');
  const chunks = readdirSync(dir)
    .filter((f) => f.endsWith('.wav'))
    .sort()
    .map((f) => {
      const chunk = new Float32Array(segmenters[0].windowSamples);
      const { samples } = readWavMono16(path.join(dir, f));
      chunk.set(samples.subarray(0, chunk.length));
      return chunk;
    });
  const best = VARIANTS.map(() => Infinity);
  const agree = VARIANTS.map(() => 0); // frames whose decoded activity equals the INT8's
  let frames = 0;
  for (let r = 0; r < repeat; r++) {
    const sums = VARIANTS.map(() => 0);
    for (const [c, chunk] of chunks.entries()) {
      const outs: Uint8Array[] = [];
      // Which variant goes first rotates, so none always runs on a warm cache.
      for (let k = 0; k < VARIANTS.length; k++) {
        const i = (r + c + k) % VARIANTS.length;
        const started = performance.now();
        const [activity] = await segmenters[i].segment([chunk]);
        sums[i] += performance.now() - started;
        outs[i] = activity;
      }
      if (r > 0) continue;
      // Row by row: a frame agrees when the same local speakers are active in both.
      for (let f = 0; f < outs[0].length; f += 3) {
        frames++;
        outs.forEach((out, i) => {
          if (out[f] === outs[0][f] && out[f + 1] === outs[0][f + 1] && out[f + 2] === outs[0][f + 2]) agree[i]++;
        });
      }
    }
    sums.forEach((sum, i) => (best[i] = Math.min(best[i], sum / chunks.length)));
  }
  await Promise.all(segmenters.map((s) => s.release()));
  console.log(`${chunks.length} chunks of 10 s (dev clips), ${threads} thread(s), mean per chunk, best of ${repeat} passes, variants timed in turns`);
  VARIANTS.forEach((v, i) => {
    const vsInt8 =
      i === 0 ? '' : `; / int8: ${(best[i] / best[0]).toFixed(2)}, frames with the INT8's decoded activity: ${((100 * agree[i]) / frames).toFixed(2)} %`;
    console.log(`  ${v.padEnd(5)} ${best[i].toFixed(1)} ms per chunk${vsInt8}`);
  });
}

runCli(main);
