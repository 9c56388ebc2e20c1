import { formatTranscript } from './export';
import { parseTranscript } from './parse';
import type { TranscriptSegment } from './types';

const segments: TranscriptSegment[] = [
  { startSec: 1, endSec: 2.5, text: 'Hello there', speaker: 'SPEAKER_00', overlap: false },
  { startSec: 2.5, endSec: 4.25, text: 'General Kenobi', speaker: 'SPEAKER_01', overlap: true },
];
const names: Record<string, string> = { SPEAKER_00: 'Speaker 1', SPEAKER_01: 'Speaker 2' };

describe('formatTranscript', () => {
  it('writes VTT voice spans that parse back to the segments', () => {
    const vtt = formatTranscript(segments, 'VTT', (s) => names[s]);
    expect(vtt).toContain('<v Speaker 1>Hello there');
    expect(vtt).toContain('00:00:02.500 --> 00:00:04.250');
    expect(parseTranscript('VTT', vtt)).toEqual(segments.map(({ startSec, endSec, text }) => ({ startSec, endSec, text })));
  });

  it('prefixes SRT and TXT lines with the speaker', () => {
    const srt = formatTranscript(segments, 'SRT', (s) => names[s]);
    expect(srt).toContain('00:00:01,000 --> 00:00:02,500\nSpeaker 1: Hello there');
    expect(parseTranscript('SRT', srt).map((c) => c.text)).toEqual(['Speaker 1: Hello there', 'Speaker 2: General Kenobi']);
    expect(formatTranscript(segments, 'TXT', (s) => names[s])).toBe(
      '[00:00:01.000 --> 00:00:02.500] Speaker 1: Hello there\n[00:00:02.500 --> 00:00:04.250] Speaker 2: General Kenobi\n',
    );
  });

  it('leaves segments without a speaker unprefixed', () => {
    expect(formatTranscript([{ ...segments[0], speaker: null }], 'TXT')).toBe('[00:00:01.000 --> 00:00:02.500] Hello there\n');
  });
});
