/**
 * Speaker-verification trial lists. Two layouts are read:
 *   VoxCeleb: `<label 1|0> <enroll wav> <test wav>`       (1 = same speaker)
 *   Kaldi:    `<enroll wav> <test wav> <target|nontarget>`
 * Relative paths are resolved against `baseDir`, the trial list's folder.
 */
import path from 'node:path';
import { readTextFile } from '../formats/rttm';
import { InvalidArgumentError } from '../common/errors';

export interface Trial {
  /** 1 = target (same speaker), 0 = non-target. */
  label: 0 | 1;
  enrollPath: string;
  testPath: string;
}

export function parseTrials(text: string, baseDir: string, source = '<trials text>'): Trial[] {
  const trials: Trial[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const where = `${source}:${index + 1}`;
    if (fields.length !== 3) {
      throw new InvalidArgumentError(`Malformed trial at ${where}: expected "<1|0> <enroll wav> <test wav>", got ${fields.length} fields: "${line}".`);
    }
    const resolve = (p: string): string => path.resolve(baseDir, p);
    if (fields[0] === '1' || fields[0] === '0') {
      trials.push({ label: fields[0] === '1' ? 1 : 0, enrollPath: resolve(fields[1]), testPath: resolve(fields[2]) });
    } else if (fields[2] === 'target' || fields[2] === 'nontarget') {
      trials.push({ label: fields[2] === 'target' ? 1 : 0, enrollPath: resolve(fields[0]), testPath: resolve(fields[1]) });
    } else {
      throw new InvalidArgumentError(
        `Malformed trial at ${where}: the label must be 1 or 0 in the first field (or target/nontarget in the last), got "${line}".`,
      );
    }
  });
  return trials;
}

/** Reads a trial list; its paths are relative to its own folder. */
export async function readTrialsFile(trialsPath: string): Promise<Trial[]> {
  return parseTrials(await readTextFile(trialsPath), path.dirname(path.resolve(trialsPath)), trialsPath);
}
