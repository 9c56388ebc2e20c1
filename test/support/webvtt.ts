/** WebVTT fixtures for the transcript tests: cues written as an ASR would write them. */

/** `HH:MM:SS.mmm`, WebVTT's cue timestamp. */
export function vttTimestamp(sec: number): string {
  const ms = Math.round(sec * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}.${pad(ms % 1000, 3)}`;
}

/** A WebVTT file with one cue per entry, in the given order. */
export function webVtt(cues: readonly { start: number; end: number; text: string }[]): string {
  return `WEBVTT\n\n${cues.map((c) => `${vttTimestamp(c.start)} --> ${vttTimestamp(c.end)}\n${c.text}\n`).join('\n')}`;
}
