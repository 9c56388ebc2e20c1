import { ClusteringConfigSchema } from './config';
import { parseSpeakerCounts } from './speaker-counts';
import { parseDiarizationConfig } from '../diarization/config';

// One rule in three places: the API's parser, the clustering config and the pipeline's config.
describe('speaker counts', () => {
  const bad: Array<[Record<string, number>, RegExp]> = [
    [{ numSpeakers: 0 }, /numSpeakers must be a whole number from 1 to 50; got 0/],
    [{ maxSpeakers: 51 }, /maxSpeakers must be a whole number from 1 to 50; got 51/],
    [{ minSpeakers: 1.5 }, /minSpeakers must be a whole number/],
    [{ minSpeakers: 4, maxSpeakers: 2 }, /minSpeakers \(4\) is larger than maxSpeakers \(2\)/],
    [{ numSpeakers: 3, minSpeakers: 2, maxSpeakers: 4 }, /either numSpeakers \(an exact count\) or minSpeakers\/maxSpeakers/],
  ];

  it.each(bad)('refuses %j with the same message everywhere', (counts, message) => {
    expect(() => parseSpeakerCounts(counts)).toThrow(message);
    const clustering = ClusteringConfigSchema.safeParse(counts);
    expect(clustering.success).toBe(false);
    expect(clustering.error?.issues[0].message).toMatch(message);
    expect(() => parseDiarizationConfig({ clustering: counts })).toThrow(message);
  });

  it('accepts an exact count, bounds, or nothing, and reads null as left out', () => {
    expect(parseSpeakerCounts({ numSpeakers: 50 })).toEqual({ numSpeakers: 50 });
    expect(parseSpeakerCounts({ minSpeakers: 2, maxSpeakers: 2 })).toEqual({ minSpeakers: 2, maxSpeakers: 2 });
    expect(parseSpeakerCounts({ numSpeakers: null, minSpeakers: null })).toEqual({ numSpeakers: undefined, minSpeakers: undefined, maxSpeakers: undefined });
    expect(parseDiarizationConfig({ clustering: { minSpeakers: 1, maxSpeakers: 50 } }).clustering).toMatchObject({ minSpeakers: 1, maxSpeakers: 50 });
  });

  it('keeps the values in effect: merge at 0.9, fold nothing, same defaults in both schemas', () => {
    const pipeline = parseDiarizationConfig().clustering;
    const clustering = ClusteringConfigSchema.parse({});
    expect(pipeline.mergeThresholdCosine).toBe(0.9);
    expect(pipeline.minClusterSec).toBe(0);
    const { method: _m, thresholdCosine: _t, spectralCapByAhc: _c, ...shared } = clustering;
    expect(pipeline).toMatchObject(shared);
  });
});
