/**
 * The bridge to the Python model toolchain in models/ (its own venv, pinned requirements): create the
 * venv, name the calibration files, run `python -m toolchain.<module>` (the calibration windows
 * themselves are written by cli/model-calibration.ts: reading the dev set is a CLI concern).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

import { DependencyMissingError } from '../common/errors';
import { devDataDir, repoRoot } from '../common/paths';
import { modelCacheDir, modelSearchDirs } from './resolve';

export const toolchainDir = path.join(repoRoot, 'models');
export const venvPython = path.join(toolchainDir, '.venv', 'bin', 'python');

/** Runs models/setup.sh (idempotent: a no-op when the venv matches requirements.txt). */
export function ensureVenv(log: (line: string) => void): void {
  const result = spawnSync('bash', [path.join(toolchainDir, 'setup.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0 || !existsSync(venvPython)) {
    throw new DependencyMissingError(
      'Could not create the model toolchain venv (models/setup.sh failed; see above). It needs python3 with venv and pip access to PyPI.',
    );
  }
  log(`model toolchain: ${venvPython}`);
}

/** Calibration file name for a recipe and window length (the toolchain derives the same name). */
export function calibrationFile(recipe: string, windowFrames: number): string {
  return path.join(modelCacheDir(), 'calib', `${recipe}-${windowFrames}f.npy`);
}

/** Runs `python -m toolchain.<module> args…` in models/, streaming its output; rejects on a non-zero exit. */
export function runToolchain(module: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(venvPython, ['-m', `toolchain.${module}`, ...args], { cwd: toolchainDir, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`toolchain.${module} exited with code ${code}`))));
  });
}

/** Arguments that tell the toolchain where the manifest, the cache, the search folders and the dev set (segmentation parity) are. */
export function toolchainLocationArgs(): string[] {
  return [
    '--manifest',
    path.join(toolchainDir, 'manifest.json'),
    '--cache',
    modelCacheDir(),
    ...modelSearchDirs().flatMap((d) => ['--search-dir', d]),
    ...(existsSync(devDataDir) ? ['--dev-data', devDataDir] : []),
  ];
}
