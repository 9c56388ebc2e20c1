import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest folder above this file that holds the root package.json with workspaces. */
export const repoRoot: string = (() => {
  let dir = __dirname;
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'server')) && existsSync(path.join(dir, 'tsconfig.json'))) {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(__dirname, '../../..');
    dir = parent;
  }
})();

/** The shared folder beside the checkout (models and dev data on this machine); SHARED_DIR overrides. */
export const sharedDir: string = process.env.SHARED_DIR ? path.resolve(process.env.SHARED_DIR) : path.resolve(repoRoot, '..', 'shared');

/** Dev data with references (diarization clips + RTTM, verification utterances + trials). */
export const devDataDir: string = path.join(sharedDir, 'data', 'dev');
