/**
 * Calibration windows for the model toolchain (INT8 calibration, pruning's least-squares recovery):
 * real speech from the dev diarization recordings (inside reference speech turns), turned into log
 * fbank by the engine's own fbank code with the model's recipe, so the Python side sees exactly what
 * the runtime feeds. Written as .npy [N, frames, bins] float32, raw (no mean normalisation: the
 * toolchain applies the model's feature_normalize_type, as the embedder does).
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { decodeToArray } from '../audio';
import { InvalidArgumentError } from '../common/errors';
import { devDataDir, repoRoot } from '../common/paths';
import { computeFbank, getFbankRecipe } from '../features/fbank';
import { listDiarizationSet } from '../eval/der-report';
import { readRttmFile } from '../formats/rttm';
import { loadManifest } from '../models/manifest';
import { calibrationFile } from '../models/toolchain';

export interface CalibrationSpec {
  recipe: string;
  windowFrames: number;
  maxWindows: number;
}

/** Sorted, merged speech regions of all speakers in an RTTM's turns. */
function speechRegions(turns: readonly { startSec: number; endSec: number }[]): [number, number][] {
  const sorted = [...turns].sort((a, b) => a.startSec - b.startSec);
  const merged: [number, number][] = [];
  for (const t of sorted) {
    const last = merged[merged.length - 1];
    if (last && t.startSec <= last[1]) last[1] = Math.max(last[1], t.endSec);
    else merged.push([t.startSec, t.endSec]);
  }
  return merged;
}

/** Windows of `windowFrames` frames lying inside reference speech, `maxWindows` of them spread evenly over all candidates. */
export async function collectCalibrationWindows(dir: string, spec: CalibrationSpec): Promise<{ data: Float32Array; count: number; bins: number }> {
  const recipe = getFbankRecipe(spec.recipe);
  const bins = recipe.numMelBins;
  const framesPerSec = 1000 / recipe.frameShiftMs;
  const candidates: Float32Array[] = [];
  const items = await listDiarizationSet(dir).catch((error: Error) => {
    throw new InvalidArgumentError(`No calibration data: ${error.message} Without it the calibration data would be empty.`);
  });
  for (const item of items) {
    const samples = await decodeToArray(item.wavPath);
    const fbank = computeFbank(samples, recipe); // [frames, bins]
    const numFrames = fbank.length / bins;
    const turns = [...(await readRttmFile(item.rttmPath)).values()].flat();
    for (const [start, end] of speechRegions(turns)) {
      const first = Math.ceil(start * framesPerSec);
      const last = Math.min(numFrames, Math.floor(end * framesPerSec));
      for (let f = first; f + spec.windowFrames <= last; f += Math.ceil(spec.windowFrames / 2)) {
        candidates.push(fbank.slice(f * bins, (f + spec.windowFrames) * bins));
      }
    }
  }
  if (candidates.length === 0) {
    throw new InvalidArgumentError(
      `No speech windows of ${spec.windowFrames} frames found in ${dir} (needs <name>.wav + <name>.rttm with speech turns): calibration data would be empty.`,
    );
  }
  const count = Math.min(spec.maxWindows, candidates.length);
  const data = new Float32Array(count * spec.windowFrames * bins); // [count, windowFrames, bins]
  for (let i = 0; i < count; i++) data.set(candidates[Math.floor((i * candidates.length) / count)], i * spec.windowFrames * bins);
  return { data, count, bins };
}

/** A NumPy .npy (format 1.0) file of little-endian float32. */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Buffer {
  const expected = shape.reduce((a, b) => a * b, 1);
  if (expected !== data.length) throw new InvalidArgumentError(`npy shape [${shape.join(', ')}] holds ${expected} values, data has ${data.length}.`);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]);
}

export async function writeCalibrationWindows(dir: string, spec: CalibrationSpec, outPath: string): Promise<number> {
  const { data, count, bins } = await collectCalibrationWindows(dir, spec);
  mkdirSync(path.dirname(outPath), { recursive: true });
  const partial = `${outPath}.partial`;
  writeFileSync(partial, encodeNpy(data, [count, spec.windowFrames, bins]));
  renameSync(partial, outPath);
  return count;
}

export const CALIBRATION_WINDOWS = 256;

/** Writes the calibration windows every manifest model with variants needs, when not already there. */
export async function ensureCalibrationWindows(log: (line: string) => void): Promise<void> {
  const manifest = loadManifest();
  const specs = new Map<string, { recipe: string; windowFrames: number }>();
  for (const entry of Object.values(manifest.embedding)) {
    if (!entry.variants) continue;
    const windowFrames = Math.round(entry.windowSec * 100);
    specs.set(calibrationFile(entry.fbankRecipe, windowFrames), { recipe: entry.fbankRecipe, windowFrames });
  }
  for (const [file, spec] of specs) {
    if (existsSync(file)) continue;
    const count = await writeCalibrationWindows(path.join(devDataDir, 'diarization'), { ...spec, maxWindows: CALIBRATION_WINDOWS }, file);
    log(`calibration: ${count} speech windows of ${spec.windowFrames} frames (${spec.recipe} fbank, engine code) → ${path.relative(repoRoot, file)}`);
  }
}
