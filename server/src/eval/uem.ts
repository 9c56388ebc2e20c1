/**
 * UEM (un-partitioned evaluation map): the time regions of each recording that are scored.
 * One region per line: `<file-id> <channel> <start s> <end s>`; blank lines and `#`/`;` comments skipped.
 * Also the small interval algebra the DER scorer builds its scored timeline with.
 */
import { readTextFile } from '../formats/rttm';
import { InvalidArgumentError } from '../common/errors';

/** A half-open time region [startSec, endSec). */
export interface TimeRange {
  startSec: number;
  endSec: number;
}

/** Regions per file-id, each list sorted and with overlapping or touching regions merged. */
export function parseUem(text: string, source = '<uem text>'): Map<string, TimeRange[]> {
  const byFile = new Map<string, TimeRange[]>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const fields = line.split(/\s+/);
    const where = `${source}:${index + 1}`;
    if (fields.length < 4) {
      throw new InvalidArgumentError(`Malformed UEM line at ${where}: expected "<file-id> <channel> <start> <end>", got ${fields.length} fields: "${line}".`);
    }
    const startSec = Number(fields[2]);
    const endSec = Number(fields[3]);
    if (!Number.isFinite(startSec) || !Number.isFinite(endSec) || startSec < 0 || endSec <= startSec) {
      throw new InvalidArgumentError(
        `Malformed UEM line at ${where}: start and end must be numbers with 0 <= start < end, got "${fields[2]}" and "${fields[3]}".`,
      );
    }
    const regions = byFile.get(fields[0]) ?? [];
    regions.push({ startSec, endSec });
    byFile.set(fields[0], regions);
  });
  for (const [fileId, regions] of byFile) byFile.set(fileId, normalizeRanges(regions));
  return byFile;
}

/** Reads and parses a UEM file; FileNotFoundError when it does not exist. */
export async function readUemFile(path: string): Promise<Map<string, TimeRange[]>> {
  return parseUem(await readTextFile(path), path);
}

/** Sorted, with empty ranges dropped and overlapping or touching ranges merged. */
export function normalizeRanges(ranges: readonly TimeRange[]): TimeRange[] {
  const sorted = ranges.filter((r) => r.endSec > r.startSec).sort((a, b) => a.startSec - b.startSec);
  const merged: TimeRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range.startSec <= last.endSec) last.endSec = Math.max(last.endSec, range.endSec);
    else merged.push({ startSec: range.startSec, endSec: range.endSec });
  }
  return merged;
}

/** `base` minus the union of `remove`; both may be unsorted and overlapping. */
export function subtractRanges(base: readonly TimeRange[], remove: readonly TimeRange[]): TimeRange[] {
  const holes = normalizeRanges(remove);
  const result: TimeRange[] = [];
  for (const range of normalizeRanges(base)) {
    let cursor = range.startSec;
    for (const hole of holes) {
      if (hole.endSec <= cursor) continue;
      if (hole.startSec >= range.endSec) break;
      if (hole.startSec > cursor) result.push({ startSec: cursor, endSec: hole.startSec });
      cursor = Math.max(cursor, hole.endSec);
      if (cursor >= range.endSec) break;
    }
    if (cursor < range.endSec) result.push({ startSec: cursor, endSec: range.endSec });
  }
  return result;
}

/** Total duration of already-normalized ranges. */
export function totalDuration(ranges: readonly TimeRange[]): number {
  return ranges.reduce((sum, r) => sum + (r.endSec - r.startSec), 0);
}
