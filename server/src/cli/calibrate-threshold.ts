import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';

import { InvalidArgumentError } from '../common/errors';
import { devDataDir, repoRoot } from '../common/paths';
import { cosine } from '../vectors/math';
import { readTrialsFile } from '../eval/trials';
import { loadManifest, manifestPath } from '../models/manifest';
import { VARIANT_CHOICES, type VariantChoice } from '../models/variants';
import { calibrateThreshold, openSetIdentification, operatingPoint, type OpenSetResult, type ThresholdCalibration } from '../speakers/threshold-calibration';
import { createUtteranceEmbedder } from './embed';
import { log, parsePositiveInt, runCli } from './common';

const DEFAULT_TRIALS = path.join(devDataDir, 'verification', 'trials.txt');

const program = new Command('calibrate:threshold')
  .description(
    'Cosine threshold for identifying enrolled people: the lowest one whose false-accept rate on verification trials stays at or under --target-far. Writes it to models/manifest.json (identifyThresholdCosine).',
  )
  .option('--trials <file>', 'trial list "<1|0> <enroll wav> <test wav>"', DEFAULT_TRIALS)
  // 0.1 % per trial, not 1 %: an unknown voice is compared with every enrolled person, and on the dev set
  // 1 % per trial gave 41 % of unknown voices a name (53 people enrolled), 0.1 % gave 9 % at no loss of enrolled voices found.
  .option('--target-far <fraction>', 'highest acceptable false-accept rate per trial', parseFraction, 0.001)
  .option('--embedding-model <name>', 'speaker-embedding model (a models/manifest.json name; default: the manifest default)')
  // The model's own weights by default: present on every checkout, and the reference the variants are checked against.
  .addOption(
    new Option('--variant <name>', 'embedding model variant to score (run another with --no-write to see how the written threshold holds on it)')
      .choices([...VARIANT_CHOICES])
      .default('fp32'),
  )
  .option('--threads <n>', 'ONNX Runtime threads', (v) => parsePositiveInt(v, '--threads'))
  .option('--no-write', 'print the figures without touching models/manifest.json');

function parseFraction(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError(`--target-far expects a fraction in [0, 1) (0.01 = 1 %), got "${value}".`);
  return n;
}

const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;

export function formatCalibration(c: ThresholdCalibration): string {
  return [
    `trials     ${c.numTargets + c.numNonTargets} (${c.numTargets} target, ${c.numNonTargets} non-target)`,
    `chosen     cosine >= ${c.chosen.thresholdCosine.toFixed(4)}  FAR ${pct(c.chosen.far)}  FRR ${pct(c.chosen.frr)}  (target FAR <= ${pct(c.targetFar)})`,
    `EER point  cosine >= ${c.eer.thresholdCosine.toFixed(4)}  FAR ${pct(c.eer.far)}  FRR ${pct(c.eer.frr)}  (EER ${pct(c.eer.eer)})`,
  ].join('\n');
}

export function formatOpenSet(r: OpenSetResult): string {
  return [
    `open set   ${r.people} people enrolled (leave-one-out, mean of their other utterances); at the chosen threshold:`,
    `           unknown voice given someone  ${r.falseIdentifications}/${r.unknownProbes} (${pct(r.falseIdentifications / r.unknownProbes)})`,
    `           enrolled voice found         ${r.correct}/${r.knownProbes} (${pct(r.knownProbes ? r.correct / r.knownProbes : 0)}), given someone else ${r.wrongPerson}`,
  ].join('\n');
}

async function main(): Promise<void> {
  program.parse();
  const flags = program.opts<{ trials: string; targetFar: number; embeddingModel?: string; variant: VariantChoice; threads?: number; write: boolean }>();
  const trials = await readTrialsFile(flags.trials);
  const { embedFile, embedder } = await createUtteranceEmbedder(flags.embeddingModel, flags.threads, flags.variant);
  const files = [...new Set(trials.flatMap((t) => [t.enrollPath, t.testPath]))];
  const embeddings = new Map<string, Float32Array>();
  for (const file of files) {
    embeddings.set(file, await embedFile(file));
    if (embeddings.size % 20 === 0) log(`embedded ${embeddings.size}/${files.length}`);
  }
  await embedder.release();
  // Both maps are filled from the same list, so every trial finds its two embeddings.
  const scores = trials.map((t) => cosine(embeddings.get(t.enrollPath)!, embeddings.get(t.testPath)!));
  const labels = trials.map((t) => t.label);
  const calibration = calibrateThreshold(scores, labels, { targetFar: flags.targetFar });
  process.stdout.write(`model      ${embedder.name} ${embedder.variant} (${embedder.dim} dims)\n${formatCalibration(calibration)}\n`);
  // The dev layout keeps each speaker's utterances in wav/<speaker>/.
  const openSet = openSetIdentification(
    files.map((f) => ({ speaker: path.basename(path.dirname(f)), embedding: embeddings.get(f)! })),
    calibration.chosen.thresholdCosine,
  );
  process.stdout.write(`${formatOpenSet(openSet)}\n`);
  const written = loadManifest().embedding[embedder.name]?.identifyThresholdCosine;
  if (written !== undefined) {
    const p = operatingPoint(scores, labels, written);
    process.stdout.write(`manifest   cosine >= ${written.toFixed(4)}  FAR ${pct(p.far)}  FRR ${pct(p.frr)}  (the threshold written before this run)\n`);
  }
  if (flags.write) {
    writeToManifest(embedder.name, embedder.variant, { calibration, openSet }, path.relative(repoRoot, path.resolve(flags.trials)));
    log(`wrote identifyThresholdCosine ${calibration.chosen.thresholdCosine} for "${embedder.name}" to ${manifestPath}`);
  }
}

/** Read-modify-write of the one entry, right away: others edit the manifest too, and its formatting is JSON.stringify's. */
function writeToManifest(modelName: string, variant: string, measured: { calibration: ThresholdCalibration; openSet: OpenSetResult }, trials: string): void {
  const { calibration: c, openSet } = measured;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { embedding: Record<string, Record<string, unknown>> };
  const entry = manifest.embedding[modelName];
  if (!entry) {
    throw new InvalidArgumentError(`"${modelName}" is not an embedding model of ${manifestPath}; calibrate a model the manifest names (or pass --no-write).`);
  }
  entry.identifyThresholdCosine = c.chosen.thresholdCosine;
  entry.identifyThresholdCalibration = {
    comment: `FAR ${pct(c.chosen.far)}, FRR ${pct(c.chosen.frr)} (${variant} weights) on ${c.numTargets + c.numNonTargets} dev verification trials (target FAR <= ${pct(c.targetFar)}); EER ${pct(c.eer.eer)} at cosine ${c.eer.thresholdCosine.toFixed(4)}`,
    /** Relative to the repository root. */
    trials,
    variant,
    targetFar: c.targetFar,
    far: round(c.chosen.far),
    frr: round(c.chosen.frr),
    eer: round(c.eer.eer),
    eerThresholdCosine: round(c.eer.thresholdCosine),
    /** Leave-one-out identification over the set's speakers (see openSetIdentification). */
    openSet: {
      people: openSet.people,
      unknownGivenSomeone: `${openSet.falseIdentifications}/${openSet.unknownProbes}`,
      enrolledFound: `${openSet.correct}/${openSet.knownProbes}`,
    },
  };
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

if (require.main === module) runCli(main);
