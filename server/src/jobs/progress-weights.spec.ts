import { createProgressMapper } from './progress-weights';

describe('createProgressMapper', () => {
  it('maps stage progress onto the overall span and never goes backwards', () => {
    const seen: Array<[string, number]> = [];
    const map = createProgressMapper((stage, fraction) => seen.push([stage, fraction]));
    map({ stage: 'segmentation', completed: 5, total: 10 });
    map({ stage: 'embedding', completed: 1, total: 10 });
    map({ stage: 'clustering', completed: 1, total: 1 });
    map({ stage: 'postprocess', completed: 1, total: 1 });
    expect(seen[0]).toEqual(['segmentation', 0.475]);
    expect(seen[1][1]).toBeCloseTo(0.475, 12);
    expect(seen[2][1]).toBeCloseTo(0.95, 12);
    expect(seen[3][1]).toBeCloseTo(0.98, 12);
  });
});
