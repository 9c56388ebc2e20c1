/**
 * The transforms of `eval:robustness` (issue 14): what a recording goes through before the engine sees it
 * (level, lossy codecs, telephone band, leading silence), as ffmpeg arguments, plus how each moves the
 * reference and how the per-transform results are summarised. Pure: audio/transform.ts runs ffmpeg.
 */
import type { SpeakerTurn } from '../diarization/types';
import { InvalidArgumentError } from '../common/errors';
import { poolDer, type DerResult } from './der';
import type { TimeRange } from './uem';

export interface RobustnessTransform {
  name: string;
  /** What a reader of the table needs to know. */
  description: string;
  /** Extension of the transformed file (picks ffmpeg's container). */
  extension: string;
  /** ffmpeg output options between `-i <input>` and the output path. */
  outputOptions: readonly string[];
  /** Seconds the transform moves the speech later (the reference moves with it). */
  shiftSec: number;
}

/** Seconds of digital silence the `silence` transform prepends. */
export const PREPENDED_SILENCE_SEC = 1.5;

/** Every transform, in the order the table prints them. */
export const ROBUSTNESS_TRANSFORMS: readonly RobustnessTransform[] = [
  { name: 'gain-10', description: '10 dB quieter', extension: 'wav', outputOptions: ['-af', 'volume=-10dB', '-c:a', 'pcm_s16le'], shiftSec: 0 },
  // Samples beyond full scale clip, as a louder recording chain would.
  {
    name: 'gain+10',
    description: '10 dB louder (clipped at full scale)',
    extension: 'wav',
    outputOptions: ['-af', 'volume=10dB', '-c:a', 'pcm_s16le'],
    shiftSec: 0,
  },
  { name: 'mp3-32k', description: 'mp3 at 32 kbit/s', extension: 'mp3', outputOptions: ['-c:a', 'libmp3lame', '-b:a', '32k'], shiftSec: 0 },
  { name: 'mulaw-8k', description: '8 kHz μ-law (telephone)', extension: 'wav', outputOptions: ['-ar', '8000', '-c:a', 'pcm_mulaw'], shiftSec: 0 },
  { name: 'opus-24k', description: 'Opus at 24 kbit/s', extension: 'ogg', outputOptions: ['-c:a', 'libopus', '-b:a', '24k'], shiftSec: 0 },
  {
    name: 'silence+1.5s',
    description: `${PREPENDED_SILENCE_SEC} s of silence prepended (reference shifted)`,
    extension: 'wav',
    outputOptions: ['-af', `adelay=delays=${PREPENDED_SILENCE_SEC * 1000}:all=1`, '-c:a', 'pcm_s16le'],
    shiftSec: PREPENDED_SILENCE_SEC,
  },
];

/** The transforms named in a comma-separated list (all when empty); an unknown name fails listing the known ones. */
export function selectTransforms(list: string | undefined): RobustnessTransform[] {
  if (!list) return [...ROBUSTNESS_TRANSFORMS];
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((name) => {
      const t = ROBUSTNESS_TRANSFORMS.find((x) => x.name === name);
      if (!t) throw new InvalidArgumentError(`Unknown transform "${name}"; known: ${ROBUSTNESS_TRANSFORMS.map((x) => x.name).join(', ')}.`);
      return t;
    });
}

/** The complete ffmpeg argument list that writes `output` from `input`: mono, first audio stream, no metadata. */
export function transformArgs(transform: RobustnessTransform, input: string, output: string): string[] {
  return [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-i',
    input,
    '-map',
    '0:a:0',
    '-ac',
    '1',
    '-map_metadata',
    '-1',
    ...transform.outputOptions,
    output,
  ];
}

/** Turns moved `shiftSec` later (the reference of a recording with silence prepended). */
export function shiftTurns(turns: readonly SpeakerTurn[], shiftSec: number): SpeakerTurn[] {
  return turns.map((t) => ({ speaker: t.speaker, startSec: t.startSec + shiftSec, endSec: t.endSec + shiftSec }));
}

/** Scored regions moved with the speech; the prepended stretch is scored too (speech found there is false alarm). */
export function shiftUem(regions: readonly TimeRange[], shiftSec: number): TimeRange[] {
  if (shiftSec === 0) return regions.map((r) => ({ ...r }));
  return [{ startSec: 0, endSec: shiftSec }, ...regions.map((r) => ({ startSec: r.startSec + shiftSec, endSec: r.endSec + shiftSec }))];
}

/** One file diarized after one transform (or as it is). */
export interface RobustnessFileResult {
  fileId: string;
  der: DerResult;
  numSpeakers: number;
}

export interface RobustnessRow {
  transform: string;
  pooled: DerResult;
  /** Pooled DER minus the original's, as a fraction (0.02 = 2 points). */
  derChange: number;
  /** Share of files whose speaker count equals the original's. */
  sameCountShare: number;
  /** Files whose count changed: `fileId original→transformed`. */
  changedCounts: string[];
}

/** Per transform: pooled DER, its change from the original, and how often the speaker count held. */
export function summarizeRobustness(
  original: readonly RobustnessFileResult[],
  transformed: ReadonlyMap<string, readonly RobustnessFileResult[]>,
): RobustnessRow[] {
  const base = poolDer(original.map((r) => r.der));
  const countOf = new Map(original.map((r) => [r.fileId, r.numSpeakers]));
  const rows: RobustnessRow[] = [{ transform: 'original', pooled: base, derChange: 0, sameCountShare: 1, changedCounts: [] }];
  for (const [transform, results] of transformed) {
    const pooled = poolDer(results.map((r) => r.der));
    const changedCounts = results.filter((r) => r.numSpeakers !== countOf.get(r.fileId)).map((r) => `${r.fileId} ${countOf.get(r.fileId)}→${r.numSpeakers}`);
    rows.push({
      transform,
      pooled,
      derChange: pooled.der - base.der,
      sameCountShare: results.length === 0 ? 0 : (results.length - changedCounts.length) / results.length,
      changedCounts,
    });
  }
  return rows;
}

/** The table `eval:robustness` prints. */
export function formatRobustnessTable(rows: readonly RobustnessRow[]): string {
  const header = ['transform', 'DER %', 'Δ points', 'miss', 'FA', 'conf', 'same count'];
  const pct = (x: number): string => (100 * x).toFixed(2);
  const part = (sec: number, r: DerResult): string => (r.scoredSpeechSec > 0 ? pct(sec / r.scoredSpeechSec) : '0.00');
  const cells = rows.map((r) => [
    r.transform,
    pct(r.pooled.der),
    `${r.derChange >= 0 ? '+' : ''}${pct(r.derChange)}`,
    part(r.pooled.missedSec, r.pooled),
    part(r.pooled.falseAlarmSec, r.pooled),
    part(r.pooled.confusionSec, r.pooled),
    `${Math.round(100 * r.sameCountShare)} %`,
  ]);
  const all = [header, ...cells];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c].length)));
  const format = (row: string[]): string => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  const lines = [format(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(format)];
  const changed = rows.filter((r) => r.changedCounts.length > 0).map((r) => `  ${r.transform}: ${r.changedCounts.join(', ')}`);
  if (changed.length > 0) lines.push('speaker count changed:', ...changed);
  return lines.join('\n');
}
