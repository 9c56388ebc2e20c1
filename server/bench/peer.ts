/**
 * bench:peer — the engine against the peer, sherpa-onnx-node's OfflineSpeakerDiarization on the same
 * segmentation and embedding models, same audio, same thread count.
 *
 *   npm run bench:peer -- <audio file or folder> [--threads N] [--repeat 3] [--threshold 0.5] [--min-duration-on 0.2] [--min-duration-off 0.5]
 *   npm run bench:peer -- --synthetic-hours 1 [--seed 1] [--threads N] [--repeat 3]
 *   engine options: [--strategy segmentation|windows] [--chunk-step 10]; [--per-file] prints per-file DER tables
 *
 * Fairness: each system runs in its own fresh process per run (sherpa-worker.ts, engine-worker.ts) that
 * loads its models once and processes every file, so model loading counts once for both and the peak RSS
 * is each system's own. Runs alternate (peer, engine, peer, engine, …) so slow drift on a shared machine
 * hits both; the best of N wall times is compared. The engine decodes the original files (decode is in its
 * time); the peer reads only 16 kHz mono 16-bit WAV, so other inputs are converted for it beforehand, untimed.
 * A folder with `<name>.rttm` beside its `<name>.wav` files (and optional `*.uem`) is scored, over the WAVs
 * that have one; a folder without any RTTM has every audio file in it timed, without DER.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';

import { ffmpegBinaries } from '../src/audio';
import { runCli } from '../src/cli/common';
import { FileNotFoundError, InvalidArgumentError } from '../src/common/errors';
import { formatDerTable, listDiarizationSet, type DiarizationItem, type SetDer } from '../src/eval/der-report';
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
import type { EngineWorkerArgs, EngineWorkerResult } from './engine-worker';
import type { PeerArgs, PeerResult } from './sherpa-worker';
import { ensureSyntheticMeeting } from './synthetic-meeting';
import { isPeerReadableWav, readWavFormat } from './wav';

const AUDIO_EXTENSIONS = new Set(['.wav', '.mp3', '.flac', '.m4a', '.aac', '.ogg', '.opus', '.webm', '.mp4', '.mkv', '.mov', '.wma']);

type SystemName = 'peer' | 'engine';

interface Options {
  target?: string;
  syntheticHours?: number;
  seed: number;
  threads: number;
  repeat: number;
  threshold: number;
  minDurationOnSec: number;
  minDurationOffSec: number;
  strategy?: 'windows' | 'segmentation';
  chunkStepSec?: number;
  perFile: boolean;
}

/** The recordings to run, and their references when there are any. */
interface BenchSet {
  description: string;
  /** Originals: what the engine reads. */
  files: string[];
  /** Present when every file has a reference. */
  items?: DiarizationItem[];
}

interface SystemRun {
  wallSec: number;
  processSec: number;
  audioSec: number;
  peakRssMb: number;
  rttmDir: string;
  /** The engine's stage times, summed over files. */
  timingsSec?: Record<string, number>;
}

interface SystemSummary {
  name: SystemName;
  runs: SystemRun[];
  best: SystemRun;
  der?: SetDer;
  speakers?: { found: number; truth: number }[];
}

function parseOptions(): Options {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'synthetic-hours': { type: 'string' },
      seed: { type: 'string', default: '1' },
      threads: { type: 'string' },
      repeat: { type: 'string', default: '3' },
      threshold: { type: 'string', default: '0.5' },
      'min-duration-on': { type: 'string', default: '0.2' },
      'min-duration-off': { type: 'string', default: '0.5' },
      strategy: { type: 'string' },
      'chunk-step': { type: 'string' },
      'per-file': { type: 'boolean', default: false },
    },
  });
  const syntheticHours = numberArg(values['synthetic-hours'], '--synthetic-hours', 'positive');
  if ((positionals.length === 1) === (syntheticHours !== undefined)) {
    throw new InvalidArgumentError('Give one audio file or folder, or --synthetic-hours H (not both).');
  }
  const strategy = values.strategy;
  if (strategy !== undefined && strategy !== 'windows' && strategy !== 'segmentation') {
    throw new InvalidArgumentError(`--strategy must be windows or segmentation, got "${strategy}".`);
  }
  return {
    target: positionals[0] && path.resolve(positionals[0]),
    syntheticHours,
    seed: numberArg(values.seed, '--seed', 'non-negative')!,
    threads: numberArg(values.threads, '--threads', 'positive-int') ?? os.availableParallelism(),
    repeat: numberArg(values.repeat, '--repeat', 'positive-int')!,
    threshold: numberArg(values.threshold, '--threshold', 'positive')!,
    minDurationOnSec: numberArg(values['min-duration-on'], '--min-duration-on', 'non-negative')!,
    minDurationOffSec: numberArg(values['min-duration-off'], '--min-duration-off', 'non-negative')!,
    strategy,
    chunkStepSec: numberArg(values['chunk-step'], '--chunk-step', 'positive'),
    perFile: values['per-file'] ?? false,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Inputs

async function resolveSet(options: Options): Promise<BenchSet> {
  if (options.syntheticHours !== undefined) {
    const meeting = await ensureSyntheticMeeting({ hours: options.syntheticHours, seed: options.seed, log: (line) => console.error(line) });
    return {
      description: `synthetic meeting, ${options.syntheticHours} h, seed ${options.seed}, ${meeting.numSpeakers} speakers: ${displayPath(meeting.wavPath)}`,
      files: [meeting.wavPath],
      items: [{ fileId: meeting.fileId, wavPath: meeting.wavPath, rttmPath: meeting.rttmPath, uem: [{ startSec: 0, endSec: meeting.durationSec }] }],
    };
  }
  const target = options.target!;
  if (!existsSync(target)) throw new FileNotFoundError(target);
  return statSync(target).isDirectory() ? folderSet(target) : fileSet(target);
}

/** A scored set when the folder has references, else every audio file in it, timed only. */
async function folderSet(dir: string): Promise<BenchSet> {
  const items = await tryListDiarizationSet(dir);
  if (items) return { description: `${displayPath(dir)}: ${items.length} recordings with references`, files: items.map((i) => i.wavPath), items };
  const files = readdirSync(dir)
    .filter((name) => AUDIO_EXTENSIONS.has(path.extname(name).toLowerCase()))
    .sort()
    .map((name) => path.join(dir, name));
  if (files.length === 0) throw new InvalidArgumentError(`No audio files in "${dir}" (looked for ${[...AUDIO_EXTENSIONS].join(' ')}).`);
  return { description: `${displayPath(dir)}: ${files.length} audio files, no references (no DER)`, files };
}

/** One file, scored against its folder's entry (with UEM) or a sibling `<name>.rttm` when there is one. */
async function fileSet(file: string): Promise<BenchSet> {
  const fileId = path.basename(file, path.extname(file));
  const fromFolder = (await tryListDiarizationSet(path.dirname(file)))?.find((item) => item.wavPath === file);
  const rttmPath = path.join(path.dirname(file), `${fileId}.rttm`);
  const item = fromFolder ?? (existsSync(rttmPath) ? { fileId, wavPath: file, rttmPath } : undefined);
  return {
    description: `${displayPath(file)}${item ? `, reference ${displayPath(item.rttmPath)}` : ', no reference (no DER)'}`,
    files: [file],
    items: item ? [item] : undefined,
  };
}

async function tryListDiarizationSet(dir: string): Promise<DiarizationItem[] | undefined> {
  try {
    return await listDiarizationSet(dir);
  } catch (error) {
    if (error instanceof InvalidArgumentError) return undefined;
    throw error;
  }
}

/** The peer reads 16 kHz mono s16 WAV only: convert anything else once, before any timing, keeping the file-id. */
async function peerInputs(files: readonly string[], dir: string): Promise<{ files: string[]; converted: number }> {
  const seen = new Set<string>();
  let converted = 0;
  const out: string[] = [];
  for (const file of files) {
    const fileId = path.basename(file, path.extname(file));
    if (seen.has(fileId)) throw new InvalidArgumentError(`Two inputs share the file-id "${fileId}"; rename one.`);
    seen.add(fileId);
    if (isPeerReadableWav(readWavFormat(file))) {
      out.push(file);
      continue;
    }
    mkdirSync(dir, { recursive: true });
    const target = path.join(dir, `${fileId}.wav`);
    await promisify(execFile)(ffmpegBinaries().ffmpegPath, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-y',
      '-i',
      file,
      '-ac',
      '1',
      '-ar',
      '16000',
      '-c:a',
      'pcm_s16le',
      target,
    ]);
    out.push(target);
    converted++;
  }
  return { files: out, converted };
}

// ---------------------------------------------------------------------------------------------------------
// Runs

async function runPeer(files: string[], options: Options, rttmDir: string): Promise<SystemRun> {
  const args: PeerArgs = {
    files,
    threads: options.threads,
    threshold: options.threshold,
    minDurationOn: options.minDurationOnSec,
    minDurationOff: options.minDurationOffSec,
    rttmDir,
  };
  const child = await runTsScript('server/bench/sherpa-worker.ts', [JSON.stringify(args)]);
  const result = lastJsonLine<PeerResult>(child.stdout);
  return { ...result, processSec: child.processSec, rttmDir };
}

async function runEngine(files: string[], options: Options, rttmDir: string): Promise<SystemRun> {
  const args: EngineWorkerArgs = { files, threads: options.threads, strategy: options.strategy, chunkStepSec: options.chunkStepSec, rttmDir };
  const child = await runTsScript('server/bench/engine-worker.ts', [JSON.stringify(args)]);
  const result = lastJsonLine<EngineWorkerResult>(child.stdout);
  return { ...result, processSec: child.processSec, rttmDir };
}

/** Peer and engine alternate, round after round, so load from other work on the machine hits both alike. */
async function runRounds(set: BenchSet, peerFiles: string[], options: Options, scratch: string): Promise<Record<SystemName, SystemRun[]>> {
  const runs: Record<SystemName, SystemRun[]> = { peer: [], engine: [] };
  for (let round = 1; round <= options.repeat; round++) {
    const peer = await runPeer(peerFiles, options, path.join(scratch, `peer-${round}`));
    runs.peer.push(peer);
    const engine = await runEngine(set.files, options, path.join(scratch, `engine-${round}`));
    runs.engine.push(engine);
    console.error(`round ${round}/${options.repeat}: peer ${peer.wallSec.toFixed(2)} s, engine ${engine.wallSec.toFixed(2)} s`);
  }
  return runs;
}

async function summarize(name: SystemName, runs: SystemRun[], items: DiarizationItem[] | undefined): Promise<SystemSummary> {
  const best = runs[argMin(runs.map((r) => r.wallSec))];
  if (!items) return { name, runs, best };
  // Both systems are deterministic, so the best run's output stands for all of them.
  return { name, runs, best, der: await scoreHypothesisDir(items, best.rttmDir), speakers: await speakerCounts(items, best.rttmDir) };
}

// ---------------------------------------------------------------------------------------------------------
// Report

function roundsTable(summaries: readonly SystemSummary[]): string {
  const rows = summaries[0].runs.flatMap((_, i) =>
    summaries.map((s) => [`${i + 1}`, s.name, fixed(s.runs[i].processSec, 2), fixed(s.runs[i].wallSec, 2), fixed(s.runs[i].peakRssMb, 0)]),
  );
  return formatTable(['round', 'system', 'process s', 'wall s', 'peak RSS MB'], rows);
}

function summaryTable(summaries: readonly SystemSummary[]): string {
  const header = ['system', 'best wall s', 'median wall s', 's per audio h', 'RTF', 'peak RSS MB', 'DER %', 'miss %', 'FA %', 'conf %', 'speaker count'];
  const rows = summaries.map((s) => {
    const der = s.der ? formatDer(s.der.total) : undefined;
    return [
      s.name,
      fixed(s.best.wallSec, 2),
      fixed(median(s.runs.map((r) => r.wallSec)), 2),
      fixed(secPerAudioHour(s.best.wallSec, s.best.audioSec), 1),
      fixed(s.best.wallSec / s.best.audioSec, 4),
      fixed(Math.max(...s.runs.map((r) => r.peakRssMb)), 0),
      der?.der ?? 'n/a',
      der?.miss ?? 'n/a',
      der?.falseAlarm ?? 'n/a',
      der?.confusion ?? 'n/a',
      s.speakers ? formatSpeakerCounts(s.speakers) : 'n/a',
    ];
  });
  return formatTable(header, rows);
}

function ratioLines(peer: SystemSummary, engine: SystemSummary): string[] {
  const lines = [
    `speed  peer / engine best wall time = ${(peer.best.wallSec / engine.best.wallSec).toFixed(2)}× (> 1: the engine is faster)`,
    `memory engine / peer peak RSS      = ${(Math.max(...engine.runs.map((r) => r.peakRssMb)) / Math.max(...peer.runs.map((r) => r.peakRssMb))).toFixed(2)}× (< 1: the engine uses less)`,
  ];
  if (peer.der && engine.der) {
    const ratio = peer.der.total.der > 0 ? (engine.der.total.der / peer.der.total.der).toFixed(2) : 'n/a';
    lines.push(`DER    engine / peer pooled DER     = ${ratio} (< 1: the engine is more accurate)`);
  }
  return lines;
}

/** Where the engine's time went: on many short files, model loading and per-file start-up can dominate. */
function engineStagesLine(best: SystemRun): string {
  const stages = Object.entries(best.timingsSec ?? {});
  const staged = stages.reduce((sum, [, sec]) => sum + sec, 0);
  return (
    `engine stage times, best run, summed over files: ${stages.map(([stage, sec]) => `${stage} ${sec.toFixed(2)} s`).join(', ')}; ` +
    `other = wall − stages (model loading, probing, per-file start-up; negative when stages overlap) ${(best.wallSec - staged).toFixed(2)} s`
  );
}

async function main(): Promise<void> {
  const options = parseOptions();
  console.log(machineSummary());
  const set = await resolveSet(options);
  const scratch = scratchDir('bench-peer');
  try {
    const peerFiles = await peerInputs(set.files, path.join(scratch.dir, 'peer-input'));
    console.log(`Input:    ${set.description}${peerFiles.converted > 0 ? ` (${peerFiles.converted} converted to 16 kHz WAV for the peer, untimed)` : ''}`);
    console.log(
      `Settings: ${options.threads} thread(s) each; peer: threshold ${options.threshold}, minDurationOn ${options.minDurationOnSec} s, minDurationOff ${options.minDurationOffSec} s; ` +
        `engine: ${options.strategy ? `strategy ${options.strategy}` : 'default strategy'}${options.chunkStepSec !== undefined ? `, chunk step ${options.chunkStepSec} s` : ''}; ` +
        `${options.repeat} round(s), peer then engine, one fresh process per run`,
    );
    const runs = await runRounds(set, peerFiles.files, options, scratch.dir);
    const peer = await summarize('peer', runs.peer, set.items);
    const engine = await summarize('engine', runs.engine, set.items);
    const audioSec = engine.best.audioSec;
    console.log(`Audio:    ${audioSec.toFixed(1)} s (${(audioSec / 3600).toFixed(3)} h) in ${set.files.length} file(s)\n`);
    console.log(roundsTable([peer, engine]));
    console.log(`\nBest of ${options.repeat} by wall time${set.items ? `; ${SCORING_NOTE}, pooled over files` : ''}:\n`);
    console.log(summaryTable([peer, engine]));
    console.log(`\n${ratioLines(peer, engine).join('\n')}`);
    console.log(`\n${engineStagesLine(engine.best)}`);
    if (options.perFile && peer.der && engine.der) {
      for (const s of [peer, engine]) console.log(`\n${s.name}:\n${formatDerTable(s.der!.perFile, s.der!.total)}`);
    }
    console.log(
      `\nColumns: wall s = the worker's own time from model loading to the last file (engine: decode included); ` +
        `process s = the whole child process (Node start-up and imports included); peak RSS = the worker's process ` +
        `(the engine's ffmpeg decoder is a separate process and not counted; the peer holds each file as float32 in memory).`,
    );
  } finally {
    scratch.cleanup();
  }
}

runCli(main);
