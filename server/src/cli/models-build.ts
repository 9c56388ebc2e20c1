import { Command } from 'commander';

import { ensureVenv, runToolchain, toolchainLocationArgs } from '../models/toolchain';
import { ensureCalibrationWindows } from './model-calibration';
import { log, runCli } from './common';

const program = new Command('models:build')
  .description(
    'Builds every model variant in models/manifest.json that is missing or stale (source hash or recipe changed): ' +
      'the CAM++ export, INT8, FP16 and pruned variants, into models/cache. Idempotent. Creates models/.venv first.',
  )
  .option('--only <name>', 'only this embedding model')
  .option('--force', 'rebuild even what is up to date', false);

async function main(): Promise<void> {
  program.parse();
  const flags = program.opts<{ only?: string; force: boolean }>();
  const started = performance.now();
  ensureVenv(log);
  await ensureCalibrationWindows(log);
  await runToolchain('build', [...toolchainLocationArgs(), ...(flags.only ? ['--only', flags.only] : []), ...(flags.force ? ['--force'] : [])]);
  log(`models:build done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (require.main === module) runCli(main);
