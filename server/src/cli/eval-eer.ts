import { Command, Option } from 'commander';

import { formatEerReport, scoreTrials } from '../eval/eer-report';
import { applyGain16, levelForFile, parseLevelsDb } from '../eval/levels';
import { readTrialsFile } from '../eval/trials';
import { DEFAULT_VARIANT, VariantChoice, VARIANT_CHOICES } from '../models/variants';
import { log, parsePositiveInt, runCli } from './common';
import { createUtteranceEmbedder } from './embed';

const program = new Command('eval:eer')
  .description('EER and minDCF (p = 0.01) of cosine scoring on a trial list: "<label> <enroll wav> <test wav>" per line, paths relative to the list.')
  .argument('<trials>', 'trial list file')
  .option('--embedding-model <path|name>', 'speaker-embedding model')
  .addOption(new Option('--variant <name>', 'embedding model variant').choices([...VARIANT_CHOICES]).default(DEFAULT_VARIANT))
  .option('--threads <n>', 'ONNX Runtime threads', (v) => parsePositiveInt(v, '--threads'))
  .option(
    '--levels <dB,...>',
    'play each utterance at one of these gains (dB, picked by a hash of its path; 16-bit, clipped), e.g. -10,0,10: EER when recordings differ in level',
    parseLevelsDb,
  );

async function main(): Promise<void> {
  program.parse();
  const [trialsPath] = program.args;
  const flags = program.opts<{ embeddingModel?: string; variant: VariantChoice; threads?: number; levels?: number[] }>();
  const trials = await readTrialsFile(trialsPath);
  const levels = flags.levels;
  const { embedFile, embedder } = await createUtteranceEmbedder(
    flags.embeddingModel,
    flags.threads,
    flags.variant,
    levels ? (samples, file) => applyGain16(samples, levelForFile(file, levels)) : undefined,
  );
  const result = await scoreTrials(trials, embedFile);
  await embedder.release();
  const levelLine = levels ? `levels     ${levels.map((db) => `${db > 0 ? '+' : ''}${db} dB`).join(', ')} (one per utterance)\n` : '';
  process.stdout.write(`model      ${embedder.name} ${embedder.variant} (${embedder.dim} dims)\n${levelLine}${formatEerReport(result)}\n`);
  log('done');
}

if (require.main === module) runCli(main);
