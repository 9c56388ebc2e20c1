import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { axis, unitAt } from './memory-store.fixture';
import { PersistentIndex, type IndexRecord } from './speaker-index';

/** Whether the file holds the float32 bytes of `v` (what hnswlib stores for a unit vector). */
function fileHolds(file: string, v: Float32Array): boolean {
  return readFileSync(file).includes(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
}

describe('PersistentIndex', () => {
  let dir: string;
  let base: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'speaker-index-'));
    base = path.join(dir, 'hash-a', 'enrollments');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  // Distinctive unit vectors (their bytes appear nowhere else in the file).
  const secret = unitAt(37.5);
  const records: IndexRecord[] = [
    { id: 'e1', group: 'P', vector: axis(0) },
    { id: 'e2', group: 'P', vector: secret },
    { id: 'e3', group: 'Q', vector: axis(2) },
  ];

  it('builds on first open, then loads what it wrote while the records are unchanged', () => {
    const first = PersistentIndex.open(base, records);
    expect(first.rebuilt).toBe(true);
    expect(existsSync(`${base}.hnsw`) && existsSync(`${base}.ids.json`)).toBe(true);
    const second = PersistentIndex.open(base, records);
    expect(second.rebuilt).toBe(false);
    expect(second.index.fingerprint()).toBe(first.index.fingerprint());
    const hits = second.index.search(axis(2), 2);
    expect(hits[0]).toMatchObject({ id: 'e3', group: 'Q' });
    expect(hits[0].similarity).toBeCloseTo(1, 6);
    expect(second.index.idsOfGroup('P').sort()).toEqual(['e1', 'e2']);
  });

  it('rebuilds when the records changed (same ids, new vector), files are missing, or unreadable', () => {
    PersistentIndex.open(base, records);
    const changed = [records[0], records[1], { ...records[2], vector: axis(3) }];
    expect(PersistentIndex.open(base, changed).rebuilt).toBe(true);
    expect(PersistentIndex.open(base, changed).rebuilt).toBe(false);
    expect(PersistentIndex.open(base, changed.slice(0, 2)).rebuilt).toBe(true);
    rmSync(`${base}.hnsw`);
    expect(PersistentIndex.open(base, changed.slice(0, 2)).rebuilt).toBe(true);
    writeFileSync(`${base}.ids.json`, '{ half a file');
    const reopened = PersistentIndex.open(base, changed.slice(0, 2));
    expect(reopened.rebuilt).toBe(true);
    expect(reopened.index.size).toBe(2);
  });

  it('follows additions: a reopen with the same records in the database does not rebuild', () => {
    const { index } = PersistentIndex.open(base, records.slice(0, 2));
    index.add([records[2]]);
    expect(PersistentIndex.open(base, records).rebuilt).toBe(false);
  });

  it('removal with rebuild leaves the vector nowhere in the file', () => {
    const { index } = PersistentIndex.open(base, records);
    expect(fileHolds(`${base}.hnsw`, secret)).toBe(true); // the check can see it
    expect(index.remove(['e2'], { rebuild: true })).toBe(1);
    expect(fileHolds(`${base}.hnsw`, secret)).toBe(false);
    expect(index.search(secret, 3).map((h) => h.id)).not.toContain('e2');
    expect(PersistentIndex.open(base, [records[0], records[2]]).rebuilt).toBe(false);
  });

  it('cheap removal overwrites the slot: not returned, not in the file', () => {
    const { index } = PersistentIndex.open(base, records);
    index.remove(['e2'], { rebuild: false });
    expect(fileHolds(`${base}.hnsw`, secret)).toBe(false);
    expect(
      index
        .search(secret, 3)
        .map((h) => h.id)
        .sort(),
    ).toEqual(['e1', 'e3']);
    expect(PersistentIndex.open(base, [records[0], records[2]]).rebuilt).toBe(false);
  });

  it('removing the last vector deletes the graph file', () => {
    const { index } = PersistentIndex.open(base, [records[1]]);
    index.remove(['e2'], { rebuild: true });
    expect(existsSync(`${base}.hnsw`)).toBe(false);
    expect(index.search(secret, 1)).toEqual([]);
    expect(PersistentIndex.open(base, []).rebuilt).toBe(false);
  });

  it('refuses a vector of another dimension', () => {
    const { index } = PersistentIndex.open(base, records);
    expect(() => index.add([{ id: 'x', group: 'P', vector: new Float32Array(8).fill(1) }])).toThrow(/8 dimensions; this index holds 4/);
    expect(() => index.search(new Float32Array(3).fill(1), 1)).toThrow(/same model/);
  });
});
