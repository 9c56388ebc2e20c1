/**
 * What the benchmarks share: run a TypeScript script in its own Node process (so its peak RSS is its
 * own and model loading counts), describe the machine, score hypotheses, and print aligned tables.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { InvalidArgumentError } from '../src/common/errors';
import { repoRoot } from '../src/common/paths';
import { DEFAULT_COLLAR_SEC, type DerResult } from '../src/eval/der';
import { readHypothesisDir, scoreSet, type DiarizationItem, type SetDer } from '../src/eval/der-report';
import { readRttmFile } from '../src/formats/rttm';

export interface ChildRun {
  stdout: string;
  stderr: string;
  /** Wall time of the whole child process as seen from here: Node start-up, TS transpiling and imports included. */
  processSec: number;
}

/**
 * Runs `node --import tsx <script> ...args` from the repository root and resolves when it exits 0.
 * Not `npx tsx`: that adds an npx process and a tsx supervisor process to every run (~0.4 s, and noise).
 */
export function runTsScript(script: string, args: readonly string[]): Promise<ChildRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.resolve(repoRoot, script), ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const processSec = (performance.now() - started) / 1000;
      if (code === 0) resolve({ stdout, stderr, processSec });
      else reject(new Error(`${script} exited with ${signal ?? `code ${code}`}:\n${tail(stderr || stdout, 4000)}`));
    });
  });
}

/** The last line of a child's stdout that parses as JSON (the workers print exactly one). */
export function lastJsonLine<T>(stdout: string): T {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    return JSON.parse(line) as T;
  }
  throw new Error(`expected a JSON line on stdout, got:\n${tail(stdout, 2000)}`);
}

/** One line about the machine: the figures mean little without it. */
export function machineSummary(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ');
  return (
    `Machine: ${model}, ${cpus.length} logical cores (${os.availableParallelism()} available to Node), ` +
    `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version} ${process.platform}-${process.arch}; ` +
    `load average ${load} (1/5/15 min) at start: other work on the machine makes the figures noisy`
  );
}

/** A scratch folder under the OS temp dir, removed by `cleanup`. */
export function scratchDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------------------------------------
// Scoring

/** md-eval's usual setting for meetings: ± 0.25 s collar, overlapped speech scored. */
export const SCORING = { collarSec: DEFAULT_COLLAR_SEC, skipOverlap: false } as const;

export const SCORING_NOTE = `DER: collar ± ${SCORING.collarSec} s, overlapped speech scored`;

/** Pooled DER of the `<fileId>.rttm` hypotheses in `hypDir` against the items' references. */
export function scoreHypothesisDir(items: readonly DiarizationItem[], hypDir: string): Promise<SetDer> {
  return scoreSet(items, (item) => readHypothesisDir(hypDir, item.fileId), SCORING);
}

/** Per file: distinct speakers in the hypothesis and in the reference. */
export async function speakerCounts(items: readonly DiarizationItem[], hypDir: string): Promise<{ fileId: string; found: number; truth: number }[]> {
  const counts = [];
  for (const item of items) {
    const hypothesis = await readHypothesisDir(hypDir, item.fileId);
    const reference = [...(await readRttmFile(item.rttmPath)).values()].flat();
    counts.push({ fileId: item.fileId, found: distinct(hypothesis.map((t) => t.speaker)), truth: distinct(reference.map((t) => t.speaker)) });
  }
  return counts;
}

/** "found 6 / true 6" for one file; "11 / 15 files exact" for a set. */
export function formatSpeakerCounts(counts: readonly { found: number; truth: number }[]): string {
  if (counts.length === 1) return `found ${counts[0].found} / true ${counts[0].truth}`;
  return `${counts.filter((c) => c.found === c.truth).length} / ${counts.length} files exact`;
}

/** A path as the user would type it from where they are. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.length < file.length ? relative : file;
}

/** DER and its parts in % of scored speech: "12.34 (miss 4.00, FA 2.10, conf 6.24)". */
export function formatDer(result: DerResult): { der: string; miss: string; falseAlarm: string; confusion: string } {
  const pct = (sec: number): string => (result.scoredSpeechSec > 0 ? ((100 * sec) / result.scoredSpeechSec).toFixed(2) : 'n/a');
  return {
    der: Number.isFinite(result.der) ? (100 * result.der).toFixed(2) : 'inf',
    miss: pct(result.missedSec),
    falseAlarm: pct(result.falseAlarmSec),
    confusion: pct(result.confusionSec),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Numbers and tables

/** Processing seconds per hour of audio (the issue's headline unit). */
export function secPerAudioHour(wallSec: number, audioSec: number): number {
  return (wallSec / audioSec) * 3600;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Index of the smallest value (the best of N runs). */
export function argMin(values: readonly number[]): number {
  return values.reduce((best, value, i) => (value < values[best] ? i : best), 0);
}

export function fixed(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
}

/** A plain-text table: first column left-aligned, the others right-aligned (numbers). */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Arguments

const NUMBER_KINDS = { positive: 'positive number', 'positive-int': 'positive integer', 'non-negative': 'non-negative number' } as const;

/** A numeric command-line value, checked ("--threads expects a positive integer, got "x""); undefined stays undefined. */
export function numberArg(value: string | undefined, flag: string, kind: keyof typeof NUMBER_KINDS): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const ok = value.trim() !== '' && Number.isFinite(n) && (kind === 'non-negative' ? n >= 0 : n > 0) && (kind !== 'positive-int' || Number.isInteger(n));
  if (!ok) throw new InvalidArgumentError(`${flag} expects a ${NUMBER_KINDS[kind]}, got "${value}".`);
  return n;
}

function distinct(values: readonly string[]): number {
  return new Set(values).size;
}

function tail(text: string, chars: number): string {
  return text.length > chars ? `…${text.slice(-chars)}` : text;
}
