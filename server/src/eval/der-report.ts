/**
 * What `eval:der` needs around the scorer: find the recordings and references in a folder, score a
 * hypothesis for each, pool the results and print a table. The CLI supplies the hypotheses (the engine,
 * or `--hyp DIR` via readHypothesisDir).
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { SpeakerTurn } from '../diarization/types';
import { FileNotFoundError, InvalidArgumentError } from '../common/errors';
import { readRttmFile } from '../formats/rttm';
import { computeDer, poolDer, type DerResult } from './der';
import { readUemFile, type TimeRange } from './uem';

export interface DiarizationItem {
  /** `<name>` of `<name>.wav`, also the RTTM file-id. */
  fileId: string;
  wavPath: string;
  rttmPath: string;
  /** Scored regions from the folder's `*.uem` files, when they list this file. */
  uem?: TimeRange[];
}

export interface ScoreSetOptions {
  collarSec: number;
  skipOverlap: boolean;
  /** Scored regions per file-id; overrides the items' own `uem`. */
  uem?: ReadonlyMap<string, readonly TimeRange[]>;
  /** Called after each file is scored. */
  onFileScored?: (fileId: string, completed: number, total: number) => void;
}

export interface FileDer {
  fileId: string;
  result: DerResult;
}

export interface SetDer {
  perFile: FileDer[];
  /** Durations summed over files: the pooled DER. */
  total: DerResult;
}

/** Every `<name>.wav` in `dir` that has a `<name>.rttm` beside it, sorted by name, with UEM regions from any `*.uem`. */
export async function listDiarizationSet(dir: string): Promise<DiarizationItem[]> {
  const names = await listDir(dir);
  const present = new Set(names);
  const uem = new Map<string, TimeRange[]>();
  for (const name of names.filter((n) => n.toLowerCase().endsWith('.uem')).sort()) {
    for (const [fileId, regions] of await readUemFile(path.join(dir, name))) {
      uem.set(fileId, [...(uem.get(fileId) ?? []), ...regions]);
    }
  }
  const items = names
    .filter((n) => n.toLowerCase().endsWith('.wav'))
    .map((n) => n.slice(0, -'.wav'.length))
    .filter((fileId) => present.has(`${fileId}.rttm`))
    .sort()
    .map((fileId): DiarizationItem => {
      const item: DiarizationItem = {
        fileId,
        wavPath: path.join(dir, `${fileId}.wav`),
        rttmPath: path.join(dir, `${fileId}.rttm`),
      };
      const regions = uem.get(fileId);
      if (regions) item.uem = regions;
      return item;
    });
  if (items.length === 0) {
    throw new InvalidArgumentError(`No recording to score in "${dir}": expected <name>.wav files each with a <name>.rttm reference beside it.`);
  }
  return items;
}

/** Scores each item's hypothesis against its reference RTTM, one file at a time, and pools the result. */
export async function scoreSet(
  items: readonly DiarizationItem[],
  getHypothesis: (item: DiarizationItem) => Promise<SpeakerTurn[]>,
  options: ScoreSetOptions,
): Promise<SetDer> {
  const perFile: FileDer[] = [];
  for (const item of items) {
    const reference = await readReferenceTurns(item);
    const hypothesis = await getHypothesis(item);
    const uem = options.uem?.get(item.fileId) ?? item.uem;
    const result = computeDer(reference, hypothesis, {
      collarSec: options.collarSec,
      skipOverlap: options.skipOverlap,
      ...(uem ? { uem } : {}),
    });
    perFile.push({ fileId: item.fileId, result });
    options.onFileScored?.(item.fileId, perFile.length, items.length);
  }
  return { perFile, total: poolDer(perFile.map((f) => f.result)) };
}

/** The reference turns of one item. */
export async function readReferenceTurns(item: DiarizationItem): Promise<SpeakerTurn[]> {
  return turnsForFile(await readRttmFile(item.rttmPath), item.fileId, item.rttmPath);
}

/**
 * The hypothesis for `fileId` from a folder of RTTM files: `<fileId>.rttm` if present (an empty one means
 * "no speech"), else the first `*.rttm` in the folder (by name) with SPEAKER lines for that file-id.
 */
export async function readHypothesisDir(dir: string, fileId: string): Promise<SpeakerTurn[]> {
  const names = await listDir(dir);
  const own = `${fileId}.rttm`;
  if (names.includes(own)) {
    const ownPath = path.join(dir, own);
    return turnsForFile(await readRttmFile(ownPath), fileId, ownPath);
  }
  for (const name of names.filter((n) => n.toLowerCase().endsWith('.rttm')).sort()) {
    const turns = (await readRttmFile(path.join(dir, name))).get(fileId);
    if (turns) return turns;
  }
  throw new InvalidArgumentError(`No hypothesis for "${fileId}" in "${dir}": expected ${own} or an .rttm file with SPEAKER lines for file-id ${fileId}.`);
}

/** Per-file rows and a pooled TOTAL row; error percentages are relative to scored speech. */
export function formatDerTable(perFile: readonly FileDer[], total: DerResult): string {
  // "ovl miss": the part of the miss inside reference overlap, in points of all scored speech.
  const header = ['file', 'DER %', 'miss %', 'ovl miss', 'FA %', 'conf %', 'scored s', 'ovl s'];
  const row = (name: string, r: DerResult): string[] => [
    name,
    percent(r.der),
    percent(share(r.missedSec, r.scoredSpeechSec)),
    r.overlap ? percent(share(r.overlap.missedSec, r.scoredSpeechSec)) : '-',
    percent(share(r.falseAlarmSec, r.scoredSpeechSec)),
    percent(share(r.confusionSec, r.scoredSpeechSec)),
    r.scoredSpeechSec.toFixed(2),
    r.overlap ? r.overlap.scoredSpeechSec.toFixed(2) : '-',
  ];
  const rows = [header, ...perFile.map((f) => row(f.fileId, f.result)), row('TOTAL', total)];
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const format = (cells: string[]): string => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const body = rows.slice(1, -1).map(format);
  return [format(header), rule, ...body, rule, format(rows[rows.length - 1])].join('\n');
}

/** The pooled result of some of a set's files. */
export function poolOf(files: readonly FileDer[]): DerResult {
  return poolDer(files.map((f) => f.result));
}

/** One line for a pooled result: DER and its miss / false alarm / confusion split, in points of scored speech. */
export function formatPoolLine(name: string, r: DerResult): string {
  const points = (sec: number): string => percent(share(sec, r.scoredSpeechSec));
  const inOverlap = r.overlap ? ` of which in reference overlap miss ${points(r.overlap.missedSec)}, confusion ${points(r.overlap.confusionSec)}` : '';
  return `${name}: DER ${percent(r.der)} % (miss ${points(r.missedSec)}, FA ${points(r.falseAlarmSec)}, confusion ${points(r.confusionSec)}${inOverlap}; ${r.scoredSpeechSec.toFixed(1)} s scored)`;
}

/** The turns an RTTM holds for `fileId`; a single-recording RTTM under another file-id is accepted too. */
function turnsForFile(byFile: Map<string, SpeakerTurn[]>, fileId: string, source: string): SpeakerTurn[] {
  const turns = byFile.get(fileId);
  if (turns) return turns;
  if (byFile.size === 0) return [];
  if (byFile.size === 1) return [...byFile.values()][0];
  throw new InvalidArgumentError(
    `"${source}" holds turns for ${[...byFile.keys()].join(', ')} but not for "${fileId}"; name the RTTM file-id after the recording.`,
  );
}

async function listDir(dir: string): Promise<string[]> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new InvalidArgumentError(`"${dir}" is a file; give the folder that holds the recordings.`);
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new FileNotFoundError(dir);
    throw error;
  }
}

function share(part: number, whole: number): number {
  if (whole > 0) return part / whole;
  return part > 0 ? Number.POSITIVE_INFINITY : 0;
}

function percent(fraction: number): string {
  return Number.isFinite(fraction) ? (100 * fraction).toFixed(2) : 'inf';
}
