import { alignTranscript } from './align';

const turns = [
  { speaker: 'A', startSec: 0, endSec: 5 },
  { speaker: 'B', startSec: 4, endSec: 10 },
  { speaker: 'A', startSec: 20, endSec: 25 },
];

describe('alignTranscript', () => {
  it('gives a cue without word times to the speaker covering most of it, flagging overlap', () => {
    const [a, b] = alignTranscript(
      [
        { startSec: 1, endSec: 4.5, text: 'mostly A' },
        { startSec: 6, endSec: 9, text: 'only B' },
      ],
      turns,
    );
    expect(a).toMatchObject({ speaker: 'A', overlap: true, text: 'mostly A' });
    expect(b).toMatchObject({ speaker: 'B', overlap: false });
  });

  it('gives an uncovered cue to the nearest speaker in time', () => {
    const segments = alignTranscript(
      [
        { startSec: 11, endSec: 12, text: 'near B' },
        { startSec: 18, endSec: 19, text: 'near A' },
        { startSec: 30, endSec: 31, text: 'after all' },
      ],
      turns,
    );
    expect(segments.map((s) => s.speaker)).toEqual(['B', 'A', 'A']);
  });

  it('splits a cue only at the word where the speaker changes, and never merges cues', () => {
    const words = [
      { startSec: 1, endSec: 2, text: 'one' },
      { startSec: 2, endSec: 3, text: 'two' },
      { startSec: 6, endSec: 7, text: 'three' },
      { startSec: 7, endSec: 8, text: 'four' },
    ];
    const segments = alignTranscript(
      [
        { startSec: 0.5, endSec: 8.5, text: 'one, two, three four', words },
        { startSec: 8.5, endSec: 9.5, text: 'five' },
      ],
      turns,
    );
    expect(segments).toEqual([
      { startSec: 0.5, endSec: 6, text: 'one two', speaker: 'A', overlap: false, words: words.slice(0, 2) },
      { startSec: 6, endSec: 8.5, text: 'three four', speaker: 'B', overlap: false, words: words.slice(2) },
      { startSec: 8.5, endSec: 9.5, text: 'five', speaker: 'B', overlap: false },
    ]);
  });

  it('keeps the cue text as written when all its words go to one speaker', () => {
    const words = [{ startSec: 6, endSec: 7, text: 'Hi,' }];
    expect(alignTranscript([{ startSec: 6, endSec: 7, text: 'Hi, all!', words }], turns)[0]).toMatchObject({ text: 'Hi, all!', speaker: 'B' });
  });

  it('leaves the speaker null only when there are no turns', () => {
    expect(alignTranscript([{ startSec: 0, endSec: 1, text: 'x' }], [])[0].speaker).toBeNull();
  });
});
