import { InvalidArgumentError } from '../common/errors';
import { detectTranscriptFormat, parseTranscript } from './parse';

const vtt = 'WEBVTT\n\n00:00:03.000 --> 00:00:04.000\nsecond cue\n\n00:00:01.000 --> 00:00:02.500\n<v Ada>Hello   there\n';
const srt = '1\r\n00:00:01,000 --> 00:00:02,500\r\nHello there\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\nsecond cue\r\n';

describe('parseTranscript', () => {
  it('reads VTT cues, drops voice tags and sorts unsorted cues', () => {
    expect(parseTranscript('VTT', vtt)).toEqual([
      { startSec: 1, endSec: 2.5, text: 'Hello there' },
      { startSec: 3, endSec: 4, text: 'second cue' },
    ]);
  });

  it('reads SRT with CRLF line ends', () => {
    expect(parseTranscript('SRT', srt)).toEqual([
      { startSec: 1, endSec: 2.5, text: 'Hello there' },
      { startSec: 3, endSec: 4, text: 'second cue' },
    ]);
  });

  it('reads openai-whisper JSON with word timestamps and whisper.cpp offsets', () => {
    const whisper = JSON.stringify({
      segments: [
        {
          start: 0.5,
          end: 1.5,
          text: ' Hi all',
          words: [
            { start: 0.5, end: 0.9, word: ' Hi' },
            { start: 1.0, end: 1.5, word: ' all' },
          ],
        },
      ],
    });
    expect(parseTranscript('WHISPER_JSON', whisper)).toEqual([
      {
        startSec: 0.5,
        endSec: 1.5,
        text: 'Hi all',
        words: [
          { startSec: 0.5, endSec: 0.9, text: 'Hi' },
          { startSec: 1, endSec: 1.5, text: 'all' },
        ],
      },
    ]);
    const cpp = JSON.stringify({ transcription: [{ offsets: { from: 1000, to: 2000 }, text: ' yes' }] });
    expect(parseTranscript('WHISPER_JSON', cpp)).toEqual([{ startSec: 1, endSec: 2, text: 'yes' }]);
  });

  it('accepts overlapping cues', () => {
    const overlapping = 'WEBVTT\n\n00:00:01.000 --> 00:00:03.000\na\n\n00:00:02.000 --> 00:00:04.000\nb\n';
    expect(parseTranscript('VTT', overlapping).map((c) => c.text)).toEqual(['a', 'b']);
  });

  const bad: [string, Parameters<typeof parseTranscript>, RegExp][] = [
    ['malformed VTT names the line', ['VTT', 'WEBVTT\n\n00:00:0x --> zz\nhi\n'], /on line 3/],
    ['VTT without header', ['VTT', srt], /Line 1 .*WEBVTT/],
    ['malformed SRT names the line', ['SRT', '1\n00:00:01,000 -> 00:00:02,000\nhi\n'], /on line 2/],
    ['bad JSON', ['WHISPER_JSON', '{"segments": ['], /not valid JSON/],
    ['JSON field names the field', ['WHISPER_JSON', '{"segments":[{"start":0,"end":"x","text":"a"}]}'], /segments\[0\]\.end must be a number/],
    ['word field', ['WHISPER_JSON', '{"segments":[{"start":0,"end":1,"text":"a","words":[{"start":0,"end":1}]}]}'], /segments\[0\]\.words\[0\]\.word/],
    ['no segments', ['WHISPER_JSON', '{"text":"a"}'], /"segments" array/],
    ['empty', ['VTT', '  \n'], /empty/],
    ['no cues', ['VTT', 'WEBVTT\n'], /no cues/],
    ['negative time', ['WHISPER_JSON', '{"segments":[{"start":-1,"end":1,"text":"a"}]}'], /negative time/],
    ['end before start', ['WHISPER_JSON', '{"segments":[{"start":2,"end":1,"text":"a"}]}'], /ends \(1 s\) before it starts/],
    ['beyond the recording', ['VTT', vtt, { durationSec: 3 }], /cue 1 ends at 4\.000 s, beyond the 3\.000 s recording/],
    ['over-large', ['VTT', vtt, { maxBytes: 10 }], /over the .* MB limit \(MAX_TRANSCRIPT_MB\)/],
  ];
  it.each(bad)('rejects %s', (_name, args, message) => {
    let caught: unknown;
    try {
      parseTranscript(...args);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError);
    expect((caught as Error).message).toMatch(message);
  });
});

describe('detectTranscriptFormat', () => {
  it('uses the extension first, then the content', () => {
    expect(detectTranscriptFormat(vtt, 'call.SRT')).toBe('SRT');
    expect(detectTranscriptFormat('{}', 'call.json')).toBe('WHISPER_JSON');
    expect(detectTranscriptFormat(vtt)).toBe('VTT');
    expect(detectTranscriptFormat(srt, 'call.txt')).toBe('SRT');
    expect(detectTranscriptFormat('{"segments":[]}')).toBe('WHISPER_JSON');
    expect(() => detectTranscriptFormat('hello', 'notes.txt')).toThrow(/Cannot tell the transcript format of "notes.txt"/);
  });
});
