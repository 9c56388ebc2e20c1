import { parseSpeakerCounts as validateSpeakerCounts } from './speaker-counts';

describe('validateSpeakerCounts', () => {
  it('accepts an exact count or bounds', () => {
    expect(validateSpeakerCounts({ numSpeakers: 3 })).toEqual({ numSpeakers: 3, minSpeakers: undefined, maxSpeakers: undefined });
    expect(validateSpeakerCounts({ minSpeakers: 2, maxSpeakers: 2 })).toEqual({ numSpeakers: undefined, minSpeakers: 2, maxSpeakers: 2 });
  });
  it('rejects negative, zero, fractional and huge counts with the field name', () => {
    expect(() => validateSpeakerCounts({ numSpeakers: -1 })).toThrow(/numSpeakers must be a whole number from 1 to 50; got -1/);
    expect(() => validateSpeakerCounts({ minSpeakers: 0 })).toThrow(/minSpeakers/);
    expect(() => validateSpeakerCounts({ maxSpeakers: 2.5 })).toThrow(/maxSpeakers/);
    expect(() => validateSpeakerCounts({ maxSpeakers: 51 })).toThrow(/maxSpeakers/);
  });
  it('looks only at the count fields of a larger input', () => {
    expect(validateSpeakerCounts({ uploadId: 'abc', title: 'x', numSpeakers: 2 } as never)).toEqual({
      numSpeakers: 2,
      minSpeakers: undefined,
      maxSpeakers: undefined,
    });
  });
  it('rejects min > max and mixing an exact count with bounds', () => {
    expect(() => validateSpeakerCounts({ minSpeakers: 4, maxSpeakers: 2 })).toThrow('minSpeakers (4) is larger than maxSpeakers (2).');
    expect(() => validateSpeakerCounts({ numSpeakers: 3, maxSpeakers: 4 })).toThrow(/either numSpeakers/);
  });
});
