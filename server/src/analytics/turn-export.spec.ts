import { parseRttm } from '../formats/rttm';
import { csvField, turnsToCsv, turnsToJson, turnsToRttm, type TurnExport } from './turn-export';

const meeting: TurnExport = {
  meetingId: 'm-1',
  durationSec: 10,
  speakers: [
    { id: 'a', label: 'SPEAKER_00', personId: 'p1', personName: 'Smith, Jane' },
    { id: 'b', label: 'SPEAKER_01', displayName: 'He said "hi"' },
    { id: 'c', label: 'SPEAKER_02', displayName: '=HYPERLINK("x")' },
    { id: 'd', label: 'SPEAKER_03' },
  ],
  turns: [
    { speakerId: 'b', start: 2, end: 3.25 },
    { speakerId: 'a', start: 0, end: 2.5 },
    { speakerId: 'c', start: 4, end: 5 },
    { speakerId: 'd', start: 6, end: 6.5 },
  ],
};

describe('turn export', () => {
  it('writes RFC 4180 CSV: CRLF, quoted commas and doubled quotes, formulas neutralised', () => {
    expect(turnsToCsv(meeting)).toBe(
      'start,end,duration,speaker_id,speaker_label,speaker_name,person_id\r\n' +
        '0.000,2.500,2.500,a,SPEAKER_00,"Smith, Jane",p1\r\n' +
        '2.000,3.250,1.250,b,SPEAKER_01,"He said ""hi""",\r\n' +
        '4.000,5.000,1.000,c,SPEAKER_02,"\'=HYPERLINK(""x"")",\r\n' +
        '6.000,6.500,0.500,d,SPEAKER_03,SPEAKER_03,\r\n',
    );
  });

  it('quotes CSV fields with line breaks', () => {
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('plain')).toBe('plain');
  });

  it('writes RTTM with one-token names that stay distinct', () => {
    const rttm = turnsToRttm({
      ...meeting,
      speakers: [
        { id: 'a', label: 'SPEAKER_00', displayName: 'Ann Lee' },
        { id: 'b', label: 'SPEAKER_01', displayName: 'Ann Lee' },
        { id: 'c', label: 'SPEAKER_02', personName: 'Bo' },
        { id: 'd', label: 'SPEAKER_03' },
      ],
    });
    expect(rttm).toBe(
      'SPEAKER m-1 1 0.000 2.500 <NA> <NA> Ann_Lee_SPEAKER_00 <NA> <NA>\n' +
        'SPEAKER m-1 1 2.000 1.250 <NA> <NA> Ann_Lee_SPEAKER_01 <NA> <NA>\n' +
        'SPEAKER m-1 1 4.000 1.000 <NA> <NA> Bo <NA> <NA>\n' +
        'SPEAKER m-1 1 6.000 0.500 <NA> <NA> SPEAKER_03 <NA> <NA>\n',
    );
    expect(parseRttm(rttm).get('m-1')).toHaveLength(4);
  });

  it('writes JSON with speakers once and turns in time order', () => {
    const json = JSON.parse(turnsToJson(meeting)) as {
      speakers: { id: string; name: string; personId: string | null }[];
      turns: { start: number; end: number; speakerId: string; speaker: string }[];
    };
    expect(json.speakers[0]).toEqual({ id: 'a', label: 'SPEAKER_00', name: 'Smith, Jane', personId: 'p1' });
    expect(json.speakers[3].personId).toBeNull();
    expect(json.turns.map((t) => t.speakerId)).toEqual(['a', 'b', 'c', 'd']);
    expect(json.turns[1]).toEqual({ start: 2, end: 3.25, speakerId: 'b', speaker: 'He said "hi"' });
  });

  it('refuses a turn of an unknown speaker', () => {
    expect(() => turnsToCsv({ ...meeting, turns: [{ speakerId: 'zz', start: 0, end: 1 }] })).toThrow(/speaker "zz", which is not among/);
  });
});
