/**
 * bench:pipeline — the engine end to end, as a user runs it: the diarize CLI in a fresh process per run
 * (model loading and ffmpeg decode included), on a long synthetic meeting with exact ground truth or on
 * a given recording.
 *
 *   npm run bench:pipeline -- [--hours 1] [--seed 1] [--threads N] [--repeat 1] [--strategy segmentation|windows] [--chunk-step 10] [--segmentation-variant int8|float]
 *   npm run bench:pipeline -- --dense [--minutes 60] [--seed 1] [--threads N] [--repeat 3]
 *   npm run bench:pipeline -- --file meeting.mp3 [--ref meeting.rttm] [--threads N] [--repeat 3]
 *
 * --dense: continuous real speech (dense-speech.ts: the dev clips and verification utterances back to back,
 * repeated to --minutes, built fresh each time with its reference) instead of the synthetic meeting, whose
 * long pauses flatter the windows strategy.
 *
 * Prints per run: seconds per hour of audio, real-time factor, stage times, peak RSS, DER against the
 * reference and the number of speakers found; with --repeat N, the best of N by wall time. Then the
 * floor (floor-worker.ts: both models alone, one after the other, on the same chunks and windows with the
 * same threads), run interleaved with the pipeline runs, and the pipeline's ratio to it (--no-floor skips it).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { runCli } from '../src/cli/common';
import { InvalidArgumentError } from '../src/common/errors';
import type { DiarizationItem } from '../src/eval/der-report';
import type { DerResult } from '../src/eval/der';
import { SEGMENTATION_VARIANT_CHOICES, type SegmentationVariantChoice } from '../src/models/segmentation-variants';
import {
  argMin,
  displayPath,
  fixed,
  formatDer,
  formatSpeakerCounts,
  formatTable,
  lastJsonLine,
  machineSummary,
  median,
  numberArg,
  runTsScript,
  SCORING_NOTE,
  scoreHypothesisDir,
  scratchDir,
  secPerAudioHour,
  speakerCounts,
} from './common';
import { buildDenseSpeech } from './dense-speech';
import type { FloorWorkerArgs, FloorWorkerResult } from './floor-worker';
import { ensureSyntheticMeeting } from './synthetic-meeting';

const DIARIZE_CLI = 'server/src/cli/diarize.ts';
const FLOOR_WORKER = 'server/bench/floor-worker.ts';

interface Options {
  hours: number;
  seed: number;
  threads: number;
  repeat: number;
  strategy?: string;
  chunkStepSec?: number;
  segmentationVariant?: SegmentationVariantChoice;
  /** Run the models on the main thread (the speed work's baseline). */
  noWorkers: boolean;
  file?: string;
  ref?: string;
  /** Dense real speech of this many minutes instead of the synthetic meeting. */
  denseMinutes?: number;
  floor: boolean;
}

/** What the CLI writes with --stats. */
interface CliStats {
  fileId: string;
  durationSec: number;
  wallSec: number;
  timingsSec: Record<string, number>;
  peakRssMb: number;
  numSpeakers: number;
}

interface Input {
  audioPath: string;
  description: string;
  /** The recording with its reference, when there is one. */
  item?: DiarizationItem;
}

interface Run {
  stats: CliStats;
  processSec: number;
  der?: DerResult;
  speakers?: { found: number; truth: number };
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      hours: { type: 'string', default: '1' },
      seed: { type: 'string', default: '1' },
      threads: { type: 'string' },
      repeat: { type: 'string', default: '1' },
      strategy: { type: 'string' },
      'chunk-step': { type: 'string' },
      'segmentation-variant': { type: 'string' },
      'no-workers': { type: 'boolean', default: false },
      file: { type: 'string' },
      ref: { type: 'string' },
      dense: { type: 'boolean', default: false },
      minutes: { type: 'string' },
      'no-floor': { type: 'boolean', default: false },
    },
  });
  if (values.ref && !values.file) throw new InvalidArgumentError('--ref needs --file: it is the reference of that recording.');
  if (values.dense && values.file) throw new InvalidArgumentError('--dense builds its own recording: leave out --file, or leave out --dense.');
  if (values.minutes && !values.dense) throw new InvalidArgumentError('--minutes is the length of the --dense recording; the synthetic meeting takes --hours.');
  return {
    hours: numberArg(values.hours, '--hours', 'positive')!,
    seed: numberArg(values.seed, '--seed', 'non-negative')!,
    threads: numberArg(values.threads, '--threads', 'positive-int') ?? os.availableParallelism(),
    repeat: numberArg(values.repeat, '--repeat', 'positive-int')!,
    strategy: values.strategy,
    chunkStepSec: numberArg(values['chunk-step'], '--chunk-step', 'positive'),
    segmentationVariant: segmentationVariantArg(values['segmentation-variant']),
    noWorkers: values['no-workers'] ?? false,
    file: values.file && path.resolve(values.file),
    ref: values.ref && path.resolve(values.ref),
    denseMinutes: values.dense ? numberArg(values.minutes ?? '60', '--minutes', 'positive') : undefined,
    floor: !values['no-floor'],
  };
}

function segmentationVariantArg(value: string | undefined): SegmentationVariantChoice | undefined {
  if (value === undefined) return undefined;
  if (!(SEGMENTATION_VARIANT_CHOICES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`--segmentation-variant expects one of ${SEGMENTATION_VARIANT_CHOICES.join(', ')}, got "${value}".`);
  return value as SegmentationVariantChoice;
}

/**
 * The synthetic meeting (built once, cached), dense speech (built now into `scratch`), or the given file with
 * its reference (--ref, else a sibling .rttm).
 */
async function resolveInput(options: Options, scratch: string): Promise<Input> {
  if (options.denseMinutes !== undefined) {
    const dense = buildDenseSpeech({ minutes: options.denseMinutes, seed: options.seed, dir: scratch });
    const share = (sec: number): string => `${((100 * sec) / dense.durationSec).toFixed(1)} %`;
    return {
      audioPath: dense.wavPath,
      description:
        `dense speech, ${options.denseMinutes} min, seed ${options.seed}: dev clips and verification utterances back to back ` +
        `(${dense.numPieces} pieces, ${dense.numSpeakers} reference speakers, speech ${share(dense.speechSec)}, overlap ${share(dense.overlapSec)} of the audio)`,
      item: { fileId: dense.fileId, wavPath: dense.wavPath, rttmPath: dense.rttmPath, uem: [{ startSec: 0, endSec: dense.durationSec }] },
    };
  }
  if (options.file) {
    if (!existsSync(options.file)) throw new InvalidArgumentError(`--file ${options.file} does not exist.`);
    const fileId = path.basename(options.file, path.extname(options.file));
    const sibling = path.join(path.dirname(options.file), `${fileId}.rttm`);
    const rttmPath = options.ref ?? (existsSync(sibling) ? sibling : undefined);
    return {
      audioPath: options.file,
      description: `${displayPath(options.file)}${rttmPath ? `, reference ${displayPath(rttmPath)}` : ', no reference (no DER)'}`,
      item: rttmPath ? { fileId, wavPath: options.file, rttmPath } : undefined,
    };
  }
  const meeting = await ensureSyntheticMeeting({ hours: options.hours, seed: options.seed, log: (line) => console.error(line) });
  const share = (sec: number): string => `${((100 * sec) / meeting.durationSec).toFixed(1)} %`;
  return {
    audioPath: meeting.wavPath,
    description:
      `synthetic meeting, ${options.hours} h, seed ${options.seed}: ${displayPath(meeting.wavPath)} ` +
      `(${meeting.numSpeakers} speakers, speech ${share(meeting.speechSec)}, overlap ${share(meeting.overlapSec)} of the audio)`,
    item: { fileId: meeting.fileId, wavPath: meeting.wavPath, rttmPath: meeting.rttmPath, uem: [{ startSec: 0, endSec: meeting.durationSec }] },
  };
}

/** One CLI run in its own process, then scored against the reference. */
async function runOnce(input: Input, options: Options): Promise<Run> {
  const scratch = scratchDir('bench-pipeline');
  try {
    const fileId = path.basename(input.audioPath, path.extname(input.audioPath));
    const statsPath = path.join(scratch.dir, 'stats.json');
    const args = [
      input.audioPath,
      '--threads',
      String(options.threads),
      '--format',
      'rttm',
      '--out',
      path.join(scratch.dir, `${fileId}.rttm`),
      '--stats',
      statsPath,
    ];
    if (options.strategy) args.push('--strategy', options.strategy);
    if (options.chunkStepSec !== undefined) args.push('--chunk-step', String(options.chunkStepSec));
    if (options.noWorkers) args.push('--no-workers');
    if (options.segmentationVariant) args.push('--segmentation-variant', options.segmentationVariant);
    const child = await runTsScript(DIARIZE_CLI, args);
    const stats = JSON.parse(await readFile(statsPath, 'utf8')) as CliStats;
    if (!input.item) return { stats, processSec: child.processSec };
    // Score the whole recording: hypothesis speech past the last reference turn is false alarm.
    const item = { ...input.item, fileId, uem: input.item.uem ?? [{ startSec: 0, endSec: stats.durationSec }] };
    const der = (await scoreHypothesisDir([item], scratch.dir)).total;
    const [speakers] = await speakerCounts([item], scratch.dir);
    return { stats, processSec: child.processSec, der, speakers };
  } finally {
    scratch.cleanup();
  }
}

/** The floor once, in its own process. */
async function floorOnce(input: Input, options: Options): Promise<FloorWorkerResult> {
  const args: FloorWorkerArgs = {
    file: input.audioPath,
    threads: options.threads,
    chunkStepSec: options.chunkStepSec,
    segmentationVariant: options.segmentationVariant,
  };
  const child = await runTsScript(FLOOR_WORKER, [JSON.stringify(args)]);
  return lastJsonLine<FloorWorkerResult>(child.stdout);
}

/** One row per run; stage columns are whatever the CLI reports, so new stages show up by themselves. */
function runTable(runs: readonly Run[], best: number): string {
  const stages = [...new Set(runs.flatMap((r) => Object.keys(r.stats.timingsSec)))];
  const header = [
    'run',
    'process s',
    'wall s',
    's per audio h',
    'RTF',
    ...stages.map((s) => `${s} s`),
    'other s',
    'peak RSS MB',
    'DER %',
    'miss %',
    'FA %',
    'conf %',
    'speaker count',
  ];
  const rows = runs.map((run, i) => {
    const { stats } = run;
    const der = run.der ? formatDer(run.der) : undefined;
    return [
      `${i + 1}${i === best && runs.length > 1 ? ' (best)' : ''}`,
      fixed(run.processSec, 2),
      fixed(stats.wallSec, 2),
      fixed(secPerAudioHour(stats.wallSec, stats.durationSec), 1),
      fixed(stats.wallSec / stats.durationSec, 4),
      ...stages.map((s) => fixed(stats.timingsSec[s], 2)),
      fixed(stats.wallSec - stages.reduce((sum, s) => sum + (stats.timingsSec[s] ?? 0), 0), 2),
      fixed(stats.peakRssMb, 0),
      der?.der ?? 'n/a',
      der?.miss ?? 'n/a',
      der?.falseAlarm ?? 'n/a',
      der?.confusion ?? 'n/a',
      run.speakers ? formatSpeakerCounts([run.speakers]) : `found ${stats.numSpeakers}`,
    ];
  });
  return formatTable(header, rows);
}

async function main(): Promise<void> {
  const options = parseOptions();
  console.log(machineSummary());
  const scratch = scratchDir('bench-input');
  try {
    await benchmark(options, scratch.dir);
  } finally {
    scratch.cleanup();
  }
}

async function benchmark(options: Options, scratch: string): Promise<void> {
  const input = await resolveInput(options, scratch);
  console.log(`Input:   ${input.description}`);
  const settings = [
    `--threads ${options.threads}`,
    options.strategy && `--strategy ${options.strategy}`,
    options.chunkStepSec !== undefined && `--chunk-step ${options.chunkStepSec}`,
    options.segmentationVariant && `--segmentation-variant ${options.segmentationVariant}`,
  ]
    .filter(Boolean)
    .join(' ');
  console.log(`Engine:  ${DIARIZE_CLI} ${settings}; one fresh process per run, ${options.repeat} run(s)`);
  const runs: Run[] = [];
  const floors: FloorWorkerResult[] = [];
  // Pipeline and floor alternate, so load from other work on the machine falls on both alike.
  for (let i = 0; i < options.repeat; i++) {
    const run = await runOnce(input, options);
    console.error(`run ${i + 1}/${options.repeat}: ${run.stats.wallSec.toFixed(2)} s`);
    runs.push(run);
    if (!options.floor) continue;
    const floor = await floorOnce(input, options);
    console.error(`floor ${i + 1}/${options.repeat}: ${(floor.segmentationSec + floor.embeddingSec).toFixed(2)} s`);
    floors.push(floor);
  }
  const best = argMin(runs.map((r) => r.stats.wallSec));
  const durationSec = runs[0].stats.durationSec;
  console.log(`Audio:   ${durationSec.toFixed(1)} s (${(durationSec / 3600).toFixed(3)} h)\n`);
  console.log(runTable(runs, best));
  const b = runs[best];
  const walls = runs.map((r) => r.stats.wallSec);
  console.log(
    `\n${runs.length > 1 ? `Best of ${runs.length}` : 'Result'}: ${secPerAudioHour(b.stats.wallSec, durationSec).toFixed(1)} s per hour of audio ` +
      `(RTF ${(b.stats.wallSec / durationSec).toFixed(4)}${runs.length > 1 ? `; median ${secPerAudioHour(median(walls), durationSec).toFixed(1)} s/h` : ''}), ` +
      `peak RSS ${Math.max(...runs.map((r) => r.stats.peakRssMb)).toFixed(0)} MB, ` +
      `DER ${b.der ? `${formatDer(b.der).der} %` : 'n/a'}, speakers ${b.speakers ? `${b.speakers.found} found / ${b.speakers.truth} true` : `${b.stats.numSpeakers} found`}`,
  );
  if (floors.length > 0) console.log(floorSummary(floors, b.stats.wallSec, durationSec, options.threads));
  console.log(
    `Columns: process s = the whole child process (Node start-up and imports included); wall s = the CLI's own time from ` +
      `model loading to the last turn (decode included); decode s = time spent waiting for decoded audio; ` +
      `other s = wall − stages (model loading, glue; negative if stages ran concurrently); ` +
      `peak RSS = the diarizer's Node process (the ffmpeg decoder is a separate process); ${SCORING_NOTE}.`,
  );
}

/** The best floor (by its sum), its parts, and the pipeline's best wall time over it. */
function floorSummary(floors: readonly FloorWorkerResult[], pipelineWallSec: number, durationSec: number, threads: number): string {
  const totals = floors.map((f) => f.segmentationSec + f.embeddingSec);
  const f = floors[argMin(totals)];
  const total = totals[argMin(totals)];
  return (
    `Floor${floors.length > 1 ? ` (best of ${floors.length})` : ''}: ${total.toFixed(2)} s = ${secPerAudioHour(total, durationSec).toFixed(1)} s per hour ` +
    `(segmentation ${f.segmentationSec.toFixed(2)} s for ${f.chunks} chunks, ${((1000 * f.segmentationSec) / f.chunks).toFixed(1)} ms each; ` +
    `embedding ${f.embeddingSec.toFixed(2)} s for ${f.windows} windows; segmentation ${f.segmentationVariant}, embedding ${f.embeddingVariant}, ` +
    `each alone with ${threads} thread(s), one after the other)\n` +
    `Pipeline / floor: ${(pipelineWallSec / total).toFixed(2)} (best pipeline wall ${pipelineWallSec.toFixed(2)} s over the best floor)`
  );
}

runCli(main);
