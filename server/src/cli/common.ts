import { Presets, SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';

import { AppError, InvalidArgumentError } from '../common/errors';
import { ProgressCallback } from '../common/progress';
import { unknownSettings } from '../diarization/config';
import { SEGMENTATION_VARIANT_CHOICES } from '../models/segmentation-variants';
import { VARIANT_CHOICES } from '../models/variants';

/** Runs a CLI's main function: AppErrors become one clear line on stderr and exit code 1. */
export function runCli(main: () => Promise<void>): void {
  // npm runs scripts from the package root; resolve relative paths from where the user typed the command.
  if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
  main().catch((error: unknown) => {
    if (error instanceof AppError) {
      process.stderr.write(`error [${error.code}]: ${error.message}\n`);
    } else {
      process.stderr.write(`error: ${(error as Error)?.stack ?? String(error)}\n`);
    }
    process.exitCode = 1;
  });
}

export function parsePositiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new AppError('INVALID_ARGUMENT', `${flag} expects a positive integer, got "${value}".`);
  return n;
}

/** A progress bar on stderr driven by the pipeline's progress events (hidden when stderr is not a terminal). */
export function progressBar(label: string): { onProgress: ProgressCallback; stop: () => void } {
  if (!process.stderr.isTTY) return { onProgress: () => undefined, stop: () => undefined };
  const bar = new SingleBar(
    { format: `${label} [{bar}] {percentage}% | {stage} {value}/{total} | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    onProgress: ({ stage, completed, total }) => {
      if (stage !== 'segmentation') {
        if (started) bar.update({ stage });
        return;
      }
      if (!started) {
        bar.start(total, 0, { stage });
        started = true;
      }
      bar.setTotal(total);
      bar.update(completed, { stage });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The engine flags the evaluation tools share (read back through diarize.ts `configFromFlags`). */
export function addEngineOptions(command: Command, strategyHelp = 'engine strategy'): Command {
  return command
    .addOption(new Option('--strategy <name>', strategyHelp).choices(['windows', 'segmentation']))
    .option('--embedding-model <path|name>', 'speaker-embedding model')
    .addOption(new Option('--variant <name>', 'embedding model variant').choices([...VARIANT_CHOICES]))
    .addOption(new Option('--segmentation-variant <name>', 'segmentation model variant').choices([...SEGMENTATION_VARIANT_CHOICES]))
    .option('--threads <n>', 'ONNX Runtime threads', (v) => parsePositiveInt(v, '--threads'))
    .option('--chunk-step <sec>', 'segmentation chunk step in seconds', Number)
    .option('--threshold <cosine>', 'clustering threshold', Number)
    .addOption(new Option('--cluster <method>', 'clustering method').choices(['ahc', 'spectral']))
    .option('--set <json>', 'further diarization settings as JSON, merged over the flags (e.g. \'{"turns":{"minDurationOffSec":0.3}}\')', parseSettingsJson);
}

/** `--set` value → a settings object; the pipeline's schema checks the fields themselves. */
export function parseSettingsJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidArgumentError(
      `--set expects a JSON object of diarization settings, e.g. '{"turns":{"minDurationOffSec":0.3}}'; got ${JSON.stringify(text.slice(0, 80))}.`,
    );
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError('--set expects a JSON object of diarization settings.');
  const unknown = unknownSettings(value as Record<string, unknown>);
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`--set names unknown settings: ${unknown.join(', ')}; see server/src/diarization/config.ts for the known ones.`);
  }
  return value as Record<string, unknown>;
}
