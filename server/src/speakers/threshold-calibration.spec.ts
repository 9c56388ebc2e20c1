import { calibrateThreshold, openSetIdentification, operatingPoint } from './threshold-calibration';

//            targets                 non-targets
const scores = [0.9, 0.8, 0.612345, 0.4, 0.85, 0.6, 0.3, 0.2, 0.1];
const labels = [1, 1, 1, 1, 0, 0, 0, 0, 0];

describe('calibrateThreshold', () => {
  it('picks the lowest threshold whose FAR stays at or under the target (hand-computed)', () => {
    // FAR <= 20 % of 5 non-targets: one may pass (0.85); 0.6 must not, so t in (0.6, 0.612345].
    const c = calibrateThreshold(scores, labels, { targetFar: 0.2 });
    expect(c.chosen.thresholdCosine).toBe(0.61); // the shortest figure in that interval
    expect(c.chosen.far).toBeCloseTo(1 / 5, 12);
    expect(c.chosen.frr).toBeCloseTo(1 / 4, 12); // 0.4 rejected
    expect(c.numTargets).toBe(4);
    expect(c.numNonTargets).toBe(5);
  });

  it('accepts no non-target at FAR 0', () => {
    const c = calibrateThreshold(scores, labels, { targetFar: 0 });
    expect(c.chosen.thresholdCosine).toBe(0.9); // the one score above 0.85
    expect(c.chosen).toMatchObject({ far: 0, frr: 0.75 });
  });

  it('reports the equal-error point beside it', () => {
    const c = calibrateThreshold(scores, labels, { targetFar: 0.2 });
    // ROC (FAR, FRR): >= 0.612345 (0.2, 0.25), >= 0.6 (0.4, 0.25): FAR = FRR a quarter of the way, EER 0.25,
    // threshold 0.612345 + 0.25 * (0.6 - 0.612345), where the measured point is (0.2, 0.25).
    expect(c.eer.eer).toBeCloseTo(0.25, 12);
    expect(c.eer.thresholdCosine).toBeCloseTo(0.60925875, 10);
    expect(c.eer).toMatchObject({ far: 0.2, frr: 0.25 });
    const atEer = operatingPoint(scores, labels, c.eer.thresholdCosine);
    expect(c.eer.far).toBe(atEer.far);
    expect(c.eer.frr).toBe(atEer.frr);
  });

  it('counts FAR and FRR with score >= threshold accepted', () => {
    expect(operatingPoint(scores, labels, 0.6)).toEqual({ thresholdCosine: 0.6, far: 0.4, frr: 0.25 });
  });

  it('rejects a target FAR outside [0, 1)', () => {
    expect(() => calibrateThreshold(scores, labels, { targetFar: 1 })).toThrow(/targetFar must be a fraction/);
  });
});

describe('openSetIdentification', () => {
  const at = (deg: number): Float32Array => Float32Array.of(Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180));
  const items = [
    { speaker: 'A', embedding: at(0) },
    { speaker: 'A', embedding: at(10) },
    { speaker: 'B', embedding: at(90) },
    { speaker: 'C', embedding: at(45) },
  ];

  it('counts unknown voices given someone, and enrolled voices found (hand-computed)', () => {
    // Best other person per probe: A0 → C 0.707, A10 → C 0.819, B → C 0.707, C → A(mean 5°) 0.766. Own: A0 ↔ A10 0.985.
    expect(openSetIdentification(items, 0.9)).toEqual({ people: 3, unknownProbes: 4, falseIdentifications: 0, knownProbes: 2, correct: 2, wrongPerson: 0 });
    expect(openSetIdentification(items, 0.75)).toMatchObject({ falseIdentifications: 2, correct: 2 });
    expect(openSetIdentification(items, 0.99)).toMatchObject({ falseIdentifications: 0, correct: 0, wrongPerson: 0 });
  });
});
