import { Command } from 'commander';

import { formatEerReport, scoreTrials } from '../eval/eer-report';
import { readTrialsFile } from '../eval/trials';
import { log, parsePositiveInt, runCli } from './common';
import { createUtteranceEmbedder } from './embed';

const program = new Command('eval:eer')
  .description('EER and minDCF (p = 0.01) of cosine scoring on a trial list: "<label> <enroll wav> <test wav>" per line, paths relative to the list.')
  .argument('<trials>', 'trial list file')
  .option('--embedding-model <path|name>', 'speaker-embedding model')
  .option('--threads <n>', 'ONNX Runtime threads', (v) => parsePositiveInt(v, '--threads'));

async function main(): Promise<void> {
  program.parse();
  const [trialsPath] = program.args;
  const flags = program.opts<{ embeddingModel?: string; threads?: number }>();
  const trials = await readTrialsFile(trialsPath);
  const { embedFile, embedder } = await createUtteranceEmbedder(flags.embeddingModel, flags.threads);
  const result = await scoreTrials(trials, embedFile);
  await embedder.release();
  process.stdout.write(`model      ${embedder.name} (${embedder.dim} dims)\n${formatEerReport(result)}\n`);
  log('done');
}

if (require.main === module) runCli(main);
