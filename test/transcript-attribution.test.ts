// Attribution of transcripts written from the reference RTTM of dev clips to the real pipeline's speakers.
import path from 'node:path';

import { devDataDir } from '../server/src/common/paths';
import { Diarizer } from '../server/src/diarization/pipeline';
import type { SpeakerTurn } from '../server/src/diarization/types';
import { readRttmFile } from '../server/src/formats/rttm';
import { alignTranscript, TurnIndex } from '../server/src/transcripts/align';
import type { TranscriptCue } from '../server/src/transcripts/types';

const clips = path.join(devDataDir, 'diarization');
const fileIds = ['pyannote_sample', 'ami_EN2001a_0000-0030', 'ami_EN2006a_0000-0030'];

/** One cue per stretch where exactly one reference speaker talks (at least 0.3 s), with its speaker. */
function singleSpeakerStretches(turns: SpeakerTurn[]): (TranscriptCue & { reference: string })[] {
  const times = [...new Set(turns.flatMap((t) => [t.startSec, t.endSec]))].sort((a, b) => a - b);
  const stretches: (TranscriptCue & { reference: string })[] = [];
  for (let i = 0; i + 1 < times.length; i++) {
    const [a, b] = [times[i], times[i + 1]];
    const active = new Set(turns.filter((t) => t.startSec <= a && t.endSec >= b).map((t) => t.speaker));
    if (active.size !== 1) continue;
    const reference = [...active][0];
    const last = stretches[stretches.length - 1];
    if (last && last.reference === reference && Math.abs(last.endSec - a) < 1e-9) last.endSec = b;
    else stretches.push({ startSec: a, endSec: b, text: '', reference });
  }
  return stretches.filter((s) => s.endSec - s.startSec >= 0.3).map((s, i) => ({ ...s, text: `cue ${i + 1}` }));
}

/** Words every 0.4 s through a cue (synthetic word timestamps). */
function withWords(cue: TranscriptCue): TranscriptCue {
  const words = [];
  for (let t = cue.startSec; t < cue.endSec - 1e-6; t += 0.4) words.push({ startSec: t, endSec: Math.min(t + 0.35, cue.endSec), text: `w${words.length}` });
  return { ...cue, words };
}

/** Reference speaker → hypothesis speaker with the most overlapping time. */
function mapSpeakers(reference: SpeakerTurn[], hypothesis: SpeakerTurn[]): Map<string, string> {
  const overlap = new Map<string, Map<string, number>>();
  for (const r of reference)
    for (const h of hypothesis) {
      const sec = Math.min(r.endSec, h.endSec) - Math.max(r.startSec, h.startSec);
      if (sec <= 0) continue;
      const row = overlap.get(r.speaker) ?? new Map<string, number>();
      row.set(h.speaker, (row.get(h.speaker) ?? 0) + sec);
      overlap.set(r.speaker, row);
    }
  return new Map([...overlap].map(([ref, row]) => [ref, [...row].sort((x, y) => y[1] - x[1])[0][0]]));
}

describe('transcript attribution on dev clips', () => {
  let diarizer: Diarizer;
  beforeAll(async () => {
    diarizer = await Diarizer.create({ threads: 2 });
  });
  afterAll(async () => {
    await diarizer.release();
  });

  it.each(fileIds)('attributes every cue of %s, >= 95 %% to the speaker its turns give most time', async (fileId) => {
    const reference = (await readRttmFile(path.join(clips, `${fileId}.rttm`))).get(fileId) ?? [];
    const { turns } = await diarizer.diarizeFile(path.join(clips, `${fileId}.wav`));
    const cues = singleSpeakerStretches(reference);
    expect(cues.length).toBeGreaterThan(0);
    const index = new TurnIndex(turns);
    const refToHyp = mapSpeakers(reference, turns);
    const lines: string[] = [];
    for (const [mode, input] of [
      ['cue times', cues],
      ['word times', cues.map(withWords)],
    ] as const) {
      const segments = alignTranscript(input, turns);
      expect(segments.every((s) => s.speaker !== null)).toBe(true);
      // Every cue appears (split or not), in order, and none is merged with another.
      expect(segments.length).toBeGreaterThanOrEqual(cues.length);
      for (const cue of input) expect(segments.filter((s) => s.startSec === cue.startSec)).toHaveLength(1);
      const consistent = segments.filter((s) => s.speaker === index.attribute(s.startSec, s.endSec).speaker).length / segments.length;
      expect(consistent).toBeGreaterThanOrEqual(0.95);
      // Right against the reference: the segment's speaker is the one its reference speaker maps to.
      const referenceOf = (s: { startSec: number; endSec: number }) =>
        cues.find((c) => c.startSec <= s.startSec + 1e-9 && c.endSec >= s.endSec - 1e-9)!.reference;
      const right = segments.filter((s) => refToHyp.get(referenceOf(s)) === s.speaker).length / segments.length;
      lines.push(
        `${fileId} (${mode}): ${segments.length} segments from ${cues.length} cues, ${(consistent * 100).toFixed(1)} % to the turns' main speaker, ${(right * 100).toFixed(1)} % right against the reference`,
      );
    }
    console.log(lines.join('\n'));
  });
});
