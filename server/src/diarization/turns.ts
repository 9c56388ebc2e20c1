import { SpeakerTurn } from './types';

/** A speaker's activity on a uniform frame grid: frame i covers [offsetSec + i*stepSec, +stepSec). */
export interface FrameGrid {
  stepSec: number;
  offsetSec: number;
}

/**
 * Binary per-frame activity of one speaker → turns, with pyannote's min-duration smoothing:
 * gaps shorter than minDurationOffSec are filled first, then turns shorter than minDurationOnSec dropped.
 */
export function activityToTurns(active: Uint8Array, speaker: string, grid: FrameGrid, minDurationOnSec: number, minDurationOffSec: number): SpeakerTurn[] {
  const raw: SpeakerTurn[] = [];
  let start = -1;
  for (let i = 0; i <= active.length; i++) {
    const on = i < active.length && active[i] !== 0;
    if (on && start < 0) start = i;
    else if (!on && start >= 0) {
      raw.push({ speaker, startSec: grid.offsetSec + start * grid.stepSec, endSec: grid.offsetSec + i * grid.stepSec });
      start = -1;
    }
  }
  return smoothTurns(raw, minDurationOnSec, minDurationOffSec);
}

/** Same smoothing for turns of one speaker already in seconds (sorted by start). */
export function smoothTurns(turns: SpeakerTurn[], minDurationOnSec: number, minDurationOffSec: number): SpeakerTurn[] {
  const merged: SpeakerTurn[] = [];
  for (const t of turns) {
    const last = merged[merged.length - 1];
    if (last && t.startSec - last.endSec < minDurationOffSec) last.endSec = Math.max(last.endSec, t.endSec);
    else merged.push({ ...t });
  }
  return merged.filter((t) => t.endSec - t.startSec >= minDurationOnSec);
}

export function sortTurns(turns: SpeakerTurn[]): SpeakerTurn[] {
  return turns.sort((a, b) => a.startSec - b.startSec || a.endSec - b.endSec || a.speaker.localeCompare(b.speaker));
}

export function speakerLabel(index: number): string {
  return `SPEAKER_${String(index).padStart(2, '0')}`;
}
