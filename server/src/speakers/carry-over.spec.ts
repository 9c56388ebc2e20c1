import { carryOver, type CarrySpeaker } from './carry-over';
import { axis, unitAt } from './memory-store.fixture';

const speaker = (id: string, centroid: Float32Array, extra: Partial<CarrySpeaker> = {}): CarrySpeaker => ({
  id,
  label: id.toUpperCase(),
  centroid,
  modelHash: 'h1',
  ...extra,
});

describe('carryOver', () => {
  it('moves names and manual assignments to the new speaker with the same voice; auto work is left to identification', () => {
    const old = [
      speaker('o1', unitAt(0), { displayName: 'Alice' }),
      speaker('o2', unitAt(90), { personId: 'P', personSource: 'manual' }),
      speaker('o3', axis(2), { personId: 'Q', personSource: 'auto' }),
      speaker('o4', axis(3), { displayName: 'Bob' }),
    ];
    const fresh = [speaker('n1', unitAt(85)), speaker('n2', unitAt(8)), speaker('n3', axis(2))];
    const result = carryOver(old, fresh);
    expect(result.by).toBe('centroid');
    expect(result.patches.map(({ similarity, ...p }) => ({ ...p, similarity: Number(similarity.toFixed(4)) }))).toEqual([
      { speakerId: 'n2', fromSpeakerId: 'o1', displayName: 'Alice', similarity: Number(Math.cos((8 * Math.PI) / 180).toFixed(4)) },
      { speakerId: 'n1', fromSpeakerId: 'o2', personId: 'P', personSource: 'manual', similarity: Number(Math.cos((5 * Math.PI) / 180).toFixed(4)) },
    ]);
    // Bob's voice (axis 3) is orthogonal to every new speaker: Hungarian pairs him with n3 at cosine 0.
    expect(result.notCarried).toEqual([
      { oldSpeakerId: 'o4', message: 'Speaker O4 (named "Bob") was not carried over: no new speaker sounds alike enough (0.00 < 0.50 centroid similarity).' },
    ]);
  });

  it('maximises total similarity (Hungarian), where greedy would lose a match', () => {
    // cos(a,x) 0.9, cos(a,y) 0.8, cos(b,x) 0.85, cos(b,y) < 0: greedy takes a–x and strands b.
    const x = unitAt(25.84193);
    const y = unitAt(-36.8699);
    const b = unitAt(25.84193 + 31.78833);
    const result = carryOver([speaker('a', unitAt(0), { displayName: 'A' }), speaker('b', b, { displayName: 'B' })], [speaker('x', x), speaker('y', y)]);
    expect(result.patches.map((p) => [p.fromSpeakerId, p.speakerId])).toEqual([
      ['a', 'y'],
      ['b', 'x'],
    ]);
    expect(result.patches[0].similarity).toBeCloseTo(0.8, 4);
    expect(result.patches[1].similarity).toBeCloseTo(0.85, 4);
  });

  it('reports an old speaker left without a counterpart when the new run has fewer speakers', () => {
    const result = carryOver([speaker('a', unitAt(0), { displayName: 'A' }), speaker('b', unitAt(10), { displayName: 'B' })], [speaker('x', unitAt(2))]);
    expect(result.patches.map((p) => p.fromSpeakerId)).toEqual(['a']);
    expect(result.notCarried[0].message).toMatch(
      /^Speaker B \(named "B"\) was not carried over: the new run has fewer speakers and its closest voice \(0\.99\)/,
    );
  });

  it('compares shared speaking time when the new run used another embedding model', () => {
    const old = [speaker('a', unitAt(0), { displayName: 'Ann' }), speaker('b', unitAt(90), { personId: 'P', personSource: 'manual' })];
    const fresh = [speaker('x', new Float32Array(8).fill(1), { modelHash: 'h2' }), speaker('y', new Float32Array(8).fill(-1), { modelHash: 'h2' })];
    expect(carryOver(old, fresh).notCarried.map((n) => n.message)).toEqual([
      'Speaker A (named "Ann") was not carried over: the new run used another embedding model, so voices cannot be compared; redo it by hand.',
      'Speaker B (assigned to person P) was not carried over: the new run used another embedding model, so voices cannot be compared; redo it by hand.',
    ]);
    const oldTurns = [
      { speakerId: 'a', start: 0, end: 10 },
      { speakerId: 'b', start: 10, end: 20 },
    ];
    // y speaks [1, 10]: 9 s shared with a out of 10 s → 0.9; x speaks [10, 14] and [15, 20]: 9/10 with b.
    const newTurns = [
      { speakerId: 'y', start: 1, end: 10 },
      { speakerId: 'x', start: 10, end: 14 },
      { speakerId: 'x', start: 15, end: 20 },
    ];
    const result = carryOver(old, fresh, { oldTurns, newTurns });
    expect(result.by).toBe('time-overlap');
    expect(result.patches.map((p) => [p.fromSpeakerId, p.speakerId, p.similarity])).toEqual([
      ['a', 'y', 0.9],
      ['b', 'x', 0.9],
    ]);
  });

  it('has nothing to do without manual work, and reports everything when the new run found nobody', () => {
    expect(carryOver([speaker('a', unitAt(0), { personId: 'P', personSource: 'auto' })], [])).toEqual({ patches: [], notCarried: [], by: 'centroid' });
    expect(carryOver([speaker('a', unitAt(0), { displayName: 'A' })], []).notCarried[0].message).toBe(
      'Speaker A (named "A") was not carried over: the new run found no speakers.',
    );
  });
});
