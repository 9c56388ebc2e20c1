import { readdirSync } from 'node:fs';
import path from 'node:path';
import { devDataDir } from '../common/paths';
import { FileNotFoundError, InvalidArgumentError } from '../common/errors';
import type { SpeakerTurn } from '../diarization/types';
import { parseRttm, readRttmFile, writeRttm } from './rttm';

const diarizationDir = path.join(devDataDir, 'diarization');

describe('writeRttm', () => {
  it('writes one SPEAKER line per turn, sorted by start, with millisecond times', () => {
    const turns: SpeakerTurn[] = [
      { speaker: 'B', startSec: 2.5, endSec: 4.25 },
      { speaker: 'A', startSec: 0.1234, endSec: 1.5 },
    ];
    expect(writeRttm('meeting1', turns)).toBe(
      'SPEAKER meeting1 1 0.123 1.377 <NA> <NA> A <NA> <NA>\n' + 'SPEAKER meeting1 1 2.500 1.750 <NA> <NA> B <NA> <NA>\n',
    );
  });

  it('writes nothing for no turns', () => {
    expect(writeRttm('empty', [])).toBe('');
  });

  it('refuses labels that would break the space-separated format', () => {
    expect(() => writeRttm('f', [{ speaker: 'two words', startSec: 0, endSec: 1 }])).toThrow(InvalidArgumentError);
    expect(() => writeRttm('my file', [])).toThrow(InvalidArgumentError);
    expect(() => writeRttm('f', [{ speaker: 'A', startSec: 2, endSec: 1 }])).toThrow(/end >= start/);
  });
});

describe('parseRttm', () => {
  it('round-trips writeRttm output on a millisecond grid', () => {
    const turns: SpeakerTurn[] = [
      { speaker: 'spk0', startSec: 0, endSec: 1.25 },
      { speaker: 'spk1', startSec: 1.1, endSec: 3.333 },
      { speaker: 'spk0', startSec: 3.5, endSec: 10.001 },
    ];
    const parsed = parseRttm(writeRttm('rec', turns));
    expect([...parsed.keys()]).toEqual(['rec']);
    const back = parsed.get('rec') ?? [];
    expect(back).toHaveLength(3);
    back.forEach((turn, i) => {
      expect(turn.speaker).toBe(turns[i].speaker);
      expect(turn.startSec).toBeCloseTo(turns[i].startSec, 9);
      expect(turn.endSec).toBeCloseTo(turns[i].endSec, 9);
    });
  });

  it('groups by file-id and skips comments, blank lines and other record types', () => {
    const text = [
      '# a comment',
      ';; another comment',
      '',
      'SPKR-INFO a 1 <NA> <NA> <NA> unknown A <NA> <NA>',
      'SPEAKER a 1 0.50 1.00 <NA> <NA> A <NA> <NA>',
      'LEXEME a 1 0.60 0.20 hello lex A <NA> <NA>',
      '  speaker b 1 2 3 <NA> <NA> B <NA>  ',
      'SPEAKER a 1 3.00 0.25 <NA> <NA> C <NA> <NA>',
    ].join('\r\n');
    const parsed = parseRttm(text);
    expect(parsed.get('a')).toEqual([
      { speaker: 'A', startSec: 0.5, endSec: 1.5 },
      { speaker: 'C', startSec: 3, endSec: 3.25 },
    ]);
    expect(parsed.get('b')).toEqual([{ speaker: 'B', startSec: 2, endSec: 5 }]);
  });

  it('names the source and line of a malformed line', () => {
    const text = 'SPEAKER a 1 0.5 1.0 <NA> <NA> A <NA> <NA>\n\nSPEAKER a 1 abc 1.0 <NA> <NA> A <NA> <NA>\n';
    expect(() => parseRttm(text, 'hyp.rttm')).toThrow(InvalidArgumentError);
    expect(() => parseRttm(text, 'hyp.rttm')).toThrow(/hyp\.rttm:3.*start/);
    expect(() => parseRttm('SPEAKER a 1 0.5 -1 <NA> <NA> A', 'x.rttm')).toThrow(/x\.rttm:1.*duration/);
    expect(() => parseRttm('SPEAKER a 1 0.5 1.0', 'short.rttm')).toThrow(/short\.rttm:1.*at least 8 fields/);
  });
});

describe('readRttmFile', () => {
  it('throws FileNotFoundError for a missing file', async () => {
    await expect(readRttmFile(path.join(diarizationDir, 'no-such-file.rttm'))).rejects.toThrow(FileNotFoundError);
  });

  it('reads every dev reference: one file-id named after the file, and it round-trips through writeRttm', async () => {
    const names = readdirSync(diarizationDir).filter((n) => n.endsWith('.rttm'));
    expect(names).toHaveLength(15);
    for (const name of names) {
      const fileId = name.replace(/\.rttm$/, '');
      const parsed = await readRttmFile(path.join(diarizationDir, name));
      expect([...parsed.keys()]).toEqual([fileId]);
      const turns = parsed.get(fileId) ?? [];
      expect(turns.length).toBeGreaterThan(0);
      for (const t of turns) expect(t.endSec).toBeGreaterThan(t.startSec);
      const again = parseRttm(writeRttm(fileId, turns)).get(fileId) ?? [];
      const key = (t: SpeakerTurn): string => `${t.speaker} ${t.startSec.toFixed(3)} ${t.endSec.toFixed(3)}`;
      expect(again.map(key).sort()).toEqual(turns.map(key).sort());
    }
  });

  it('reads the pyannote sample reference as listed', async () => {
    const turns = (await readRttmFile(path.join(diarizationDir, 'pyannote_sample.rttm'))).get('pyannote_sample') ?? [];
    // 10 lines; first "6.690 0.430 speaker90", last "27.850 2.150 speaker90"
    expect(turns).toHaveLength(10);
    expect(turns[0]).toEqual({ speaker: 'speaker90', startSec: 6.69, endSec: 6.69 + 0.43 });
    expect(turns[9].speaker).toBe('speaker90');
    expect(turns[9].endSec).toBeCloseTo(30.0, 9);
    expect(new Set(turns.map((t) => t.speaker))).toEqual(new Set(['speaker90', 'speaker91']));
  });
});
