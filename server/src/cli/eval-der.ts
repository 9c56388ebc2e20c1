import { Command } from 'commander';

import { DiarizationConfig } from '../diarization/config';
import { Diarizer } from '../diarization/pipeline';
import { SpeakerTurn } from '../diarization/types';
import { DiarizationItem, formatDerTable, formatPoolLine, listDiarizationSet, poolOf, readHypothesisDir, scoreSet } from '../eval/der-report';
import { readUemFile } from '../eval/uem';
import type { SegmentationVariantChoice } from '../models/segmentation-variants';
import { VariantChoice } from '../models/variants';
import { configFromFlags } from './diarize';
import { addEngineOptions, log, runCli } from './common';

/** The AMI clips of the dev set with the most overlapped speech, pooled on their own (issue 14). */
const DEFAULT_OVERLAP_POOL = 'EN2001a,EN2002b,EN2006a';

const program = addEngineOptions(
  new Command('eval:der')
    .description(
      'Diarization error rate over a folder of <name>.wav + <name>.rttm: per file and pooled, md-eval collar semantics; each recording is diarized once and scored with --collar and with collar 0.',
    )
    .argument('<dir>', 'folder with recordings and reference RTTMs (a *.uem beside them sets the scored regions)')
    .option('--hyp <dir>', "score these hypothesis RTTMs instead of running the engine (e.g. the peer's)")
    .option('--collar <sec>', 'seconds not scored on each side of every reference boundary (collar 0 is reported beside it)', Number, 0.25)
    .option('--skip-overlap', 'do not score regions where the reference has 2+ speakers', false)
    .option('--uem <file>', 'scored regions (default: a *.uem in <dir>, else the whole file)')
    .option('--pool <ids>', 'comma-separated parts of file-ids pooled on their own (the heavy-overlap clips)', DEFAULT_OVERLAP_POOL)
    .option('--num-speakers-from-ref', 'give the engine the reference speaker count (oracle count)', false),
  'engine strategy to score (default: both)',
);

interface EvalFlags {
  hyp?: string;
  collar: number;
  skipOverlap: boolean;
  uem?: string;
  pool: string;
  strategy?: DiarizationConfig['strategy'];
  embeddingModel?: string;
  variant?: VariantChoice;
  segmentationVariant?: SegmentationVariantChoice;
  threads?: number;
  chunkStep?: number;
  threshold?: number;
  cluster?: 'ahc' | 'spectral';
  set?: Record<string, unknown>;
  numSpeakersFromRef: boolean;
}

async function main(): Promise<void> {
  program.parse();
  const [dir] = program.args;
  const flags = program.opts<EvalFlags>();
  const items = await listDiarizationSet(dir);
  const uem = flags.uem ? await readUemFile(flags.uem) : undefined;
  const collars = [...new Set([flags.collar, 0])];
  const poolParts = flags.pool
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const inPool = (fileId: string): boolean => poolParts.some((p) => fileId.includes(p));

  const runs: { name: string; hypothesis: (item: DiarizationItem) => Promise<SpeakerTurn[]> }[] = [];
  if (flags.hyp) {
    const hypDir = flags.hyp;
    runs.push({ name: `hypotheses from ${hypDir}`, hypothesis: (item) => readHypothesisDir(hypDir, item.fileId) });
  } else {
    const diarizer = await Diarizer.create(configFromFlags(flags), { log });
    const settings = flags.set ? `, --set ${JSON.stringify(flags.set)}` : '';
    const model =
      `embedding ${diarizer.embedder.name} variant ${diarizer.embedder.variant} (--variant ${flags.variant ?? diarizer.config.embedding.variant}), ` +
      `segmentation variant ${diarizer.segmenter.variant} (--segmentation-variant ${flags.segmentationVariant ?? diarizer.config.segmentation.variant})${settings}`;
    for (const strategy of flags.strategy ? [flags.strategy] : (['segmentation', 'windows'] as const)) {
      runs.push({
        name: `engine, strategy ${strategy}, ${model}`,
        hypothesis: async (item) => {
          const numSpeakers = flags.numSpeakersFromRef ? await referenceSpeakerCount(item.rttmPath) : undefined;
          const result = await diarizer.diarizeFile(item.wavPath, { fileId: item.fileId, overrides: { strategy, clustering: { numSpeakers } } });
          return result.turns;
        },
      });
    }
  }
  const totals: string[] = [];
  for (const run of runs) {
    // Diarize once per file; every collar scores the same hypothesis.
    const hypotheses = new Map<string, SpeakerTurn[]>();
    for (const item of items) hypotheses.set(item.fileId, await run.hypothesis(item));
    totals.push(`# ${run.name}`);
    for (const collarSec of collars) {
      const settings = `collar ±${collarSec} s, overlap ${flags.skipOverlap ? 'skipped' : 'scored'}`;
      const { perFile, total } = await scoreSet(items, async (item) => hypotheses.get(item.fileId)!, { collarSec, skipOverlap: flags.skipOverlap, uem });
      process.stdout.write(`\n# ${run.name} (${settings})\n${formatDerTable(perFile, total)}\n`);
      if (collarSec === flags.collar) {
        process.stdout.write('mapping (hyp → ref):\n');
        for (const f of perFile) {
          const pairs = Object.entries(f.result.mapping).map(([h, r]) => `${h}→${r}`);
          process.stdout.write(`  ${f.fileId}: ${pairs.join(', ') || '(none)'}\n`);
        }
      }
      totals.push(formatPoolLine(`all ${perFile.length} files, collar ${collarSec}`, total));
      const pool = perFile.filter((f) => inPool(f.fileId));
      if (pool.length > 0) totals.push(formatPoolLine(`overlap pool (${pool.length} files: ${poolParts.join(', ')}), collar ${collarSec}`, poolOf(pool)));
    }
  }
  process.stdout.write(`\n${totals.join('\n')}\n`);
}

async function referenceSpeakerCount(rttmPath: string): Promise<number> {
  const { readRttmFile } = await import('../formats/rttm');
  const speakers = new Set<string>();
  for (const turns of (await readRttmFile(rttmPath)).values()) for (const t of turns) speakers.add(t.speaker);
  return Math.max(1, speakers.size);
}

if (require.main === module) runCli(main);
