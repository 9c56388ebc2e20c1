import { readFileSync } from 'node:fs';

import { ensureSyntheticMeeting, speechAndOverlap } from '../server/bench/synthetic-meeting';
import { readWavFormat, readWavMono16 } from '../server/bench/wav';
import { readRttmFile } from '../server/src/formats/rttm';
import { tempDir } from './helpers/media';

// The benchmarks' synthetic meeting: a tiny one (72 s) built from the dev speech into temporary caches.
describe('synthetic meeting for the benchmarks', () => {
  const hours = 0.02;
  const seed = 3;
  const cacheA = tempDir('meeting-a');
  const cacheB = tempDir('meeting-b');

  afterAll(() => {
    cacheA.cleanup();
    cacheB.cleanup();
  });

  it('is a 16 kHz mono s16 WAV of the asked length, with a reference of 4–8 speakers inside it and some overlap', async () => {
    const meeting = await ensureSyntheticMeeting({ hours, seed, cacheDir: cacheA.dir });
    const numSamples = Math.round(hours * 3600 * 16000);
    expect(meeting.durationSec).toBeCloseTo(hours * 3600, 6);
    expect(readWavFormat(meeting.wavPath)).toMatchObject({ audioFormat: 1, channels: 1, sampleRate: 16000, bitsPerSample: 16, dataBytes: 2 * numSamples });

    const turns = (await readRttmFile(meeting.rttmPath)).get(meeting.fileId) ?? [];
    expect(turns.length).toBeGreaterThan(10);
    for (const turn of turns) {
      expect(turn.startSec).toBeGreaterThanOrEqual(0);
      expect(turn.endSec).toBeGreaterThan(turn.startSec);
      expect(turn.endSec).toBeLessThanOrEqual(meeting.durationSec + 0.0005); // RTTM keeps milliseconds
    }
    const speakers = new Set(turns.map((t) => t.speaker));
    expect(speakers.size).toBe(meeting.numSpeakers);
    expect(meeting.numSpeakers).toBeGreaterThanOrEqual(4);
    expect(meeting.numSpeakers).toBeLessThanOrEqual(8);
    const { speechSec, overlapSec } = speechAndOverlap(turns);
    expect(overlapSec).toBeGreaterThan(0);
    expect(speechSec / meeting.durationSec).toBeGreaterThan(0.5);

    // Speech where the reference says so, quiet noise (about -45 dBFS) in the long pause before the first turn.
    const { samples } = readWavMono16(meeting.wavPath);
    const rmsDb = (from: number, to: number): number => {
      let energy = 0;
      for (let i = from; i < to; i++) energy += samples[i] * samples[i];
      return 10 * Math.log10(energy / (to - from));
    };
    const firstStart = Math.floor(Math.min(...turns.map((t) => t.startSec)) * 16000);
    expect(firstStart).toBeGreaterThan(1600);
    expect(rmsDb(0, firstStart - 800)).toBeLessThan(-40);
    const longest = turns.reduce((a, b) => (b.endSec - b.startSec > a.endSec - a.startSec ? b : a));
    expect(rmsDb(Math.round(longest.startSec * 16000), Math.round(longest.endSec * 16000))).toBeGreaterThan(-35);
  });

  it('is the same meeting for the same seed, read from the cache the second time, and another for another seed', async () => {
    const lines: string[] = [];
    const first = await ensureSyntheticMeeting({ hours, seed, cacheDir: cacheA.dir, log: (line) => lines.push(line) });
    expect(lines).toEqual([]); // cached by the previous test
    const rebuilt = await ensureSyntheticMeeting({ hours, seed, cacheDir: cacheB.dir, log: (line) => lines.push(line) });
    expect(lines.length).toBeGreaterThan(0);
    expect(readFileSync(rebuilt.wavPath).equals(readFileSync(first.wavPath))).toBe(true);
    expect(readFileSync(rebuilt.rttmPath, 'utf8')).toBe(readFileSync(first.rttmPath, 'utf8'));

    const other = await ensureSyntheticMeeting({ hours, seed: seed + 1, cacheDir: cacheB.dir });
    expect(other.fileId).not.toBe(first.fileId);
    const timeline = async (m: { rttmPath: string; fileId: string }): Promise<string> =>
      ((await readRttmFile(m.rttmPath)).get(m.fileId) ?? []).map((t) => `${t.speaker}@${t.startSec}`).join(' ');
    expect(await timeline(other)).not.toBe(await timeline(first));
  });
});
