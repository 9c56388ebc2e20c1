import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';

import { InvalidArgumentError } from '../common/errors';
import { DiarizationConfigInput } from '../diarization/config';
import { SEGMENTATION_VARIANT_CHOICES, SegmentationVariantChoice } from '../models/segmentation-variants';
import { VariantChoice, VARIANT_CHOICES } from '../models/variants';
import { Diarizer } from '../diarization/pipeline';
import { writeDiarizationJson } from '../formats/json';
import { writeRttm } from '../formats/rttm';
import { alignTranscript } from '../transcripts/align';
import { formatTranscript } from '../transcripts/export';
import { detectTranscriptFormat, parseTranscript } from '../transcripts/parse';
import type { TranscriptCue } from '../transcripts/types';
import { log, parsePositiveInt, parseSettingsJson, progressBar, runCli } from './common';

const program = new Command('diarize')
  .description('Who spoke when: diarize a recording (any format ffmpeg reads). Results on stdout or --out; progress and timings on stderr.')
  .argument('<file>', 'audio or video file')
  .option('--num-speakers <n>', 'exact number of speakers', (v) => parsePositiveInt(v, '--num-speakers'))
  .option('--min-speakers <n>', 'at least this many speakers', (v) => parsePositiveInt(v, '--min-speakers'))
  .option('--max-speakers <n>', 'at most this many speakers', (v) => parsePositiveInt(v, '--max-speakers'))
  .addOption(new Option('--strategy <name>', 'diarization strategy').choices(['windows', 'segmentation']))
  .option('--embedding-model <path|name>', 'speaker-embedding model: a models/manifest.json name or an .onnx path')
  .addOption(
    new Option('--variant <name>', 'embedding model variant (auto: int8 on CPU, fp16 on GPU, fp32 if not built; `npm run models:build` builds them)').choices([
      ...VARIANT_CHOICES,
    ]),
  )
  .addOption(
    new Option(
      '--segmentation-variant <name>',
      'segmentation model variant (auto: the shipped int8; float: its dequantized copy, `npm run models:build`)',
    ).choices([...SEGMENTATION_VARIANT_CHOICES]),
  )
  .addOption(new Option('--channels <mode>', 'mix: downmix; separate: one speaker stream per channel').choices(['mix', 'separate']).default('mix'))
  .option('--threads <n>', 'ONNX Runtime threads (default: all cores)', (v) => parsePositiveInt(v, '--threads'))
  .option('--no-workers', 'run the models on the main thread instead of one worker thread each')
  .option('--chunk-step <sec>', 'segmentation chunk step in seconds', Number)
  .option('--threshold <cosine>', 'clustering threshold (cosine similarity)', Number)
  .addOption(new Option('--cluster <method>', 'clustering method').choices(['ahc', 'spectral']))
  .addOption(new Option('--format <fmt>', 'output format').choices(['rttm', 'json', 'vtt', 'srt', 'txt']).default('rttm'))
  .option('--transcript <file>', 'ASR transcript (.vtt, .srt or Whisper .json) to attribute to the speakers; needed by --format vtt|srt|txt')
  .option('--out <file>', 'write the result here instead of stdout')
  .option('--stats <file>', 'also write run statistics as JSON (wall time, stage times, peak RSS) for benchmarks')
  .option('--set <json>', 'further diarization settings as JSON, merged over the flags (e.g. \'{"segmentation":{"adaptiveStep":true}}\')', parseSettingsJson);

interface DiarizeFlags {
  numSpeakers?: number;
  minSpeakers?: number;
  maxSpeakers?: number;
  strategy?: 'windows' | 'segmentation';
  embeddingModel?: string;
  variant?: VariantChoice;
  segmentationVariant?: SegmentationVariantChoice;
  channels: 'mix' | 'separate';
  threads?: number;
  workers?: boolean;
  chunkStep?: number;
  threshold?: number;
  cluster?: 'ahc' | 'spectral';
  format: 'rttm' | 'json' | 'vtt' | 'srt' | 'txt';
  transcript?: string;
  out?: string;
  stats?: string;
  /** --set: settings as JSON, merged over the other flags. */
  set?: Record<string, unknown>;
}

/** CLI flags → pipeline configuration (shared with eval:der). */
export function configFromFlags(flags: Partial<DiarizeFlags>): DiarizationConfigInput {
  const fromFlags: DiarizationConfigInput = {
    strategy: flags.strategy,
    channels: flags.channels,
    embeddingModel: flags.embeddingModel,
    threads: flags.threads,
    inferenceWorkers: flags.workers,
    segmentation:
      flags.chunkStep !== undefined || flags.segmentationVariant !== undefined
        ? { chunkStepSec: flags.chunkStep, variant: flags.segmentationVariant }
        : undefined,
    embedding: flags.variant !== undefined ? { variant: flags.variant } : undefined,
    clustering: {
      method: flags.cluster,
      thresholdCosine: flags.threshold,
      numSpeakers: flags.numSpeakers,
      minSpeakers: flags.minSpeakers,
      maxSpeakers: flags.maxSpeakers,
    },
  };
  if (!flags.set) return fromFlags;
  // Settings are two levels deep (section → field): merge each section.
  const merged: Record<string, unknown> = { ...fromFlags };
  for (const [key, value] of Object.entries(flags.set)) {
    const current = merged[key];
    merged[key] = isPlainObject(value) && isPlainObject(current) ? { ...current, ...value } : value;
  }
  return merged as DiarizationConfigInput;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function main(): Promise<void> {
  program.parse();
  const [file] = program.args;
  const flags = program.opts<DiarizeFlags>();
  const started = performance.now();
  const transcriptOutput = flags.format === 'vtt' || flags.format === 'srt' || flags.format === 'txt';
  if (transcriptOutput && !flags.transcript) throw new InvalidArgumentError(`--format ${flags.format} prints a transcript; pass one with --transcript FILE.`);
  // Parsed before diarizing so a broken transcript fails in a second, not after the whole recording.
  const transcript = flags.transcript ? await readTranscript(flags.transcript) : undefined;
  const diarizer = await Diarizer.create(configFromFlags(flags), { log });
  const bar = progressBar('diarize');
  const result = await diarizer.diarizeFile(file, { onProgress: bar.onProgress }).finally(async () => {
    bar.stop();
    await diarizer.release();
  });
  const segments = transcript && alignTranscript(parseTranscript(transcript.format, transcript.content, { durationSec: result.durationSec }), result.turns);
  let text: string;
  if (transcriptOutput) text = formatTranscript(segments!, flags.format.toUpperCase() as 'VTT' | 'SRT' | 'TXT');
  else if (flags.format === 'json') {
    const json = writeDiarizationJson(result);
    text = segments ? `${JSON.stringify({ ...JSON.parse(json), transcript: segments }, null, 2)}\n` : json;
  } else text = writeRttm(result.fileId, result.turns);
  if (flags.out) await writeFile(flags.out, text);
  else process.stdout.write(text);
  const t = result.timingsSec;
  const total = (performance.now() - started) / 1000;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  if (flags.stats) {
    await writeFile(
      flags.stats,
      JSON.stringify({ fileId: result.fileId, durationSec: result.durationSec, wallSec: total, timingsSec: t, peakRssMb, numSpeakers: result.numSpeakers }),
    );
  }
  log(
    `${result.fileId}: ${result.durationSec.toFixed(1)} s audio, ${result.numSpeakers} speakers, ${result.turns.length} turns in ${total.toFixed(2)} s (RTF ${(total / Math.max(result.durationSec, 1e-9)).toFixed(4)}, peak RSS ${peakRssMb.toFixed(0)} MB) | ` +
      Object.entries(t)
        .map(([stage, sec]) => `${stage} ${sec.toFixed(2)}s`)
        .join(', '),
  );
}

async function readTranscript(file: string): Promise<{ format: ReturnType<typeof detectTranscriptFormat>; content: string }> {
  const content = await readFile(file, 'utf8').catch(() => {
    throw new InvalidArgumentError(`Cannot read the transcript "${path.basename(file)}"; check the --transcript path.`);
  });
  const format = detectTranscriptFormat(content, file);
  parseTranscript(format, content) satisfies TranscriptCue[];
  return { format, content };
}

if (require.main === module) runCli(main);
