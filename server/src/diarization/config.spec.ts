import { chunkStepSecFor, parseDiarizationConfig, unknownSettings } from './config';

describe('diarization config', () => {
  it('steps segmentation chunks 5 s for windows and 10 s for segmentation unless told, rounding counts half-up', () => {
    expect(chunkStepSecFor(parseDiarizationConfig({}))).toBe(5);
    expect(chunkStepSecFor(parseDiarizationConfig({ strategy: 'segmentation' }))).toBe(10);
    expect(chunkStepSecFor(parseDiarizationConfig({ strategy: 'segmentation', segmentation: { chunkStepSec: 2.5 } }))).toBe(2.5);
    const config = parseDiarizationConfig({});
    expect(config.segmentation.countRounding).toBe('half-up');
    expect(config.clustering.spectralCapMarginCosine).toBe(0.05);
  });

  it('names settings the schema does not know, section by section', () => {
    expect(unknownSettings({ turns: { minDurationOffSec: 0.3 }, segmentation: { chunkStepSec: 5 }, clustering: { spectralCapMarginCosine: 0 } })).toEqual([]);
    expect(unknownSettings({ turn: {}, segmentation: { chunkStep: 5, batchSize: 2 }, strategy: 'windows' })).toEqual(['turn', 'segmentation.chunkStep']);
  });

  it('refuses out-of-range decoding settings with the field named', () => {
    expect(() => parseDiarizationConfig({ segmentation: { maxNonSpeechProbability: 1.5 } })).toThrow(/segmentation\.maxNonSpeechProbability/);
    expect(() => parseDiarizationConfig({ segmentation: { countRounding: 'up' as 'half-up' } })).toThrow(/segmentation\.countRounding/);
    expect(() => parseDiarizationConfig({ turns: { minOverlapProbability: 0 } })).toThrow(/turns\.minOverlapProbability/);
  });

  it('labels frames from the liberal decodings by default, and null turns each off', () => {
    expect(parseDiarizationConfig({}).turns).toMatchObject({ maxNonSpeechProbability: 0.55, minOverlapProbability: 0.45 });
    expect(parseDiarizationConfig({ turns: { maxNonSpeechProbability: null, minOverlapProbability: null } }).turns).toMatchObject({
      maxNonSpeechProbability: null,
      minOverlapProbability: null,
    });
  });
});
