import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';

import { runFfmpeg } from '../audio/transform';
import { DiarizationConfig } from '../diarization/config';
import { Diarizer } from '../diarization/pipeline';
import { computeDer } from '../eval/der';
import { DiarizationItem, listDiarizationSet, readReferenceTurns } from '../eval/der-report';
import {
  formatRobustnessTable,
  RobustnessFileResult,
  RobustnessTransform,
  selectTransforms,
  shiftTurns,
  shiftUem,
  summarizeRobustness,
  transformArgs,
} from '../eval/robustness';
import { readUemFile, TimeRange } from '../eval/uem';
import type { SegmentationVariantChoice } from '../models/segmentation-variants';
import { VariantChoice } from '../models/variants';
import { configFromFlags } from './diarize';
import { addEngineOptions, log, runCli } from './common';

const program = addEngineOptions(
  new Command('eval:robustness')
    .description(
      'Diarizes every <name>.wav (+ <name>.rttm) of a folder as it is and after each transform (gain ±10 dB, mp3 32 kbit/s, 8 kHz μ-law, Opus 24 kbit/s, 1.5 s of leading silence) made with ffmpeg in a temp folder; prints per transform the pooled DER, its change from the original and the share of files whose speaker count held.',
    )
    .argument('<dir>', 'folder with recordings and reference RTTMs (a *.uem beside them sets the scored regions)')
    .option('--collar <sec>', 'seconds not scored on each side of every reference boundary', Number, 0.25)
    .option('--transforms <names>', 'comma-separated subset of: gain-10, gain+10, mp3-32k, mulaw-8k, opus-24k, silence+1.5s')
    .option('--uem <file>', 'scored regions (default: a *.uem in <dir>, else the whole file)')
    .option('--keep <dir>', 'write the transformed copies here and keep them (default: a temp folder, removed at the end)'),
);

interface RobustnessFlags {
  collar: number;
  transforms?: string;
  uem?: string;
  strategy?: DiarizationConfig['strategy'];
  embeddingModel?: string;
  variant?: VariantChoice;
  segmentationVariant?: SegmentationVariantChoice;
  threads?: number;
  chunkStep?: number;
  threshold?: number;
  cluster?: 'ahc' | 'spectral';
  set?: Record<string, unknown>;
  keep?: string;
}

async function main(): Promise<void> {
  program.parse();
  const [dir] = program.args;
  const flags = program.opts<RobustnessFlags>();
  const transforms = selectTransforms(flags.transforms);
  const items = await listDiarizationSet(dir);
  const uemByFile = flags.uem ? await readUemFile(flags.uem) : undefined;
  const diarizer = await Diarizer.create(configFromFlags(flags), { log });
  const workDir = flags.keep ?? (await mkdtemp(path.join(os.tmpdir(), 'eval-robustness-')));

  const diarizeScored = async (item: DiarizationItem, file: string, transform?: RobustnessTransform): Promise<RobustnessFileResult> => {
    const shiftSec = transform?.shiftSec ?? 0;
    const reference = shiftTurns(await readReferenceTurns(item), shiftSec);
    const uem: readonly TimeRange[] | undefined = uemByFile?.get(item.fileId) ?? item.uem;
    const result = await diarizer.diarizeFile(file, { fileId: item.fileId });
    const der = computeDer(reference, result.turns, { collarSec: flags.collar, ...(uem ? { uem: shiftUem(uem, shiftSec) } : {}) });
    return { fileId: item.fileId, der, numSpeakers: result.numSpeakers };
  };

  try {
    const original: RobustnessFileResult[] = [];
    const transformed = new Map<string, RobustnessFileResult[]>(transforms.map((t) => [t.name, []]));
    for (const [i, item] of items.entries()) {
      log(`[${i + 1}/${items.length}] ${item.fileId}`);
      original.push(await diarizeScored(item, item.wavPath));
      for (const transform of transforms) {
        const copy = path.join(workDir, `${item.fileId}.${transform.name}.${transform.extension}`);
        await runFfmpeg(transformArgs(transform, item.wavPath, copy), `the ${transform.name} copy of ${item.fileId}`);
        transformed.get(transform.name)!.push(await diarizeScored(item, copy, transform));
      }
    }
    const config = diarizer.config;
    process.stdout.write(
      `\n# eval:robustness, ${items.length} files, strategy ${config.strategy}, embedding ${diarizer.embedder.name} variant ${diarizer.embedder.variant}, segmentation ${diarizer.segmenter.variant}, collar ±${flags.collar} s\n`,
    );
    process.stdout.write(`${formatRobustnessTable(summarizeRobustness(original, transformed))}\n`);
    for (const t of transforms) process.stdout.write(`  ${t.name}: ${t.description}\n`);
  } finally {
    await diarizer.release();
    if (!flags.keep) await rm(workDir, { recursive: true, force: true });
  }
}

if (require.main === module) runCli(main);
