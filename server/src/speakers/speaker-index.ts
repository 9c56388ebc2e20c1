/**
 * Persistent HNSW indexes of stored embeddings, one folder per embedding model:
 *   DATA_DIR/index/<modelHash>/enrollments.{hnsw,hnsw.json,ids.json}   enrolled people's embeddings
 *   DATA_DIR/index/<modelHash>/speakers.{hnsw,hnsw.json,ids.json}      meeting speakers' centroids
 * `<name>.ids.json` maps hnsw integer labels to record ids (and their group: person or meeting) and
 * holds a fingerprint of the database content the index was built from. The database is the truth:
 * an index whose files are missing, unreadable or whose fingerprint differs from the records is rebuilt.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { InvalidArgumentError } from '../common/errors';
import type { Store } from '../store/types';
import { VectorIndex } from '../vectors/vector-index';

/** One vector to index: `group` is what searches are grouped by (person id, meeting id). */
export interface IndexRecord {
  id: string;
  group: string;
  /** [dim] */
  vector: Float32Array;
}

export interface IndexHit {
  id: string;
  group: string;
  /** Cosine similarity to the query. */
  similarity: number;
}

interface Entry {
  id: string;
  group: string;
  /** Short hash of id + vector bytes: the fingerprint is computed from these. */
  digest: string;
}

interface IdsFile {
  format: typeof IDS_FORMAT;
  version: number;
  count: number;
  fingerprint: string;
  /** [label, id, group, digest] */
  entries: [number, string, string, string][];
}

const IDS_FORMAT = 'speaker-index-ids';
const IDS_VERSION = 1;

/** Digest of one record: a changed vector under the same id (merged speakers) changes it. */
export function recordDigest(id: string, vector: Float32Array): string {
  return createHash('sha256')
    .update(id)
    .update('\0')
    .update(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength))
    .digest('hex')
    .slice(0, 16);
}

/** Count + hash over the sorted (id, digest) pairs: equal exactly when the indexed content is. */
export function fingerprintOf(entries: Iterable<{ id: string; digest: string }>): string {
  const lines = [...entries].map((e) => `${e.id}:${e.digest}\n`).sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line);
  return `${lines.length}:${hash.digest('hex')}`;
}

/** One HNSW index with its label ↔ id mapping, written to disk after every change. */
export class PersistentIndex {
  private index: VectorIndex | undefined;
  private readonly byLabel = new Map<number, Entry>();
  private readonly byId = new Map<string, number>();

  private constructor(private readonly basePath: string) {}

  /**
   * Loads `<basePath>.hnsw` when it was built from exactly `records`; otherwise builds it from them
   * and writes it. `rebuilt` says which happened.
   */
  static open(basePath: string, records: readonly IndexRecord[]): { index: PersistentIndex; rebuilt: boolean } {
    const opened = new PersistentIndex(basePath);
    const digests = records.map((r) => ({ id: r.id, digest: recordDigest(r.id, r.vector) }));
    if (opened.tryLoad(fingerprintOf(digests))) return { index: opened, rebuilt: false };
    opened.rebuild(records.map((r, i) => ({ entry: { id: r.id, group: r.group, digest: digests[i].digest }, vector: r.vector })));
    opened.save();
    return { index: opened, rebuilt: true };
  }

  get size(): number {
    return this.byId.size;
  }

  get dim(): number | undefined {
    return this.index?.dim;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Ids indexed under `group`. */
  idsOfGroup(group: string): string[] {
    return [...this.byLabel.values()].filter((e) => e.group === group).map((e) => e.id);
  }

  fingerprint(): string {
    return fingerprintOf(this.byLabel.values());
  }

  /** Adds records (an id already present is replaced) and writes the index. */
  add(records: readonly IndexRecord[]): void {
    if (records.length === 0) return;
    for (const r of records) {
      this.index ??= new VectorIndex(r.vector.length);
      if (r.vector.length !== this.index.dim) {
        throw new InvalidArgumentError(
          `Embedding "${r.id}" has ${r.vector.length} dimensions; this index holds ${this.index.dim}-dimensional embeddings of one model.`,
        );
      }
    }
    for (const r of records) {
      const existing = this.byId.get(r.id);
      const label = this.index!.add(r.vector, existing);
      const entry = { id: r.id, group: r.group, digest: recordDigest(r.id, r.vector) };
      this.byLabel.set(label, entry);
      this.byId.set(r.id, label);
    }
    this.save();
  }

  /**
   * Removes records and writes the index. `rebuild` writes a fresh graph without them (nothing of
   * the vectors, not even neighbour links, stays on disk: consent withdrawal); otherwise their slots
   * are overwritten with noise and marked deleted (cheap for large indexes). Returns how many were present.
   */
  remove(ids: readonly string[], options: { rebuild: boolean }): number {
    const present = ids.filter((id) => this.byId.has(id));
    if (present.length === 0) return 0;
    if (options.rebuild) {
      const drop = new Set(present);
      const keep = [...this.byLabel.entries()].filter(([, e]) => !drop.has(e.id)).map(([label, entry]) => ({ entry, vector: this.index!.get(label) }));
      this.rebuild(keep);
    } else {
      for (const id of present) {
        const label = this.byId.get(id)!;
        this.index!.erase(label);
        this.byLabel.delete(label);
        this.byId.delete(id);
      }
    }
    this.save();
    return present.length;
  }

  /** The `k` nearest records, best first. */
  search(vector: Float32Array, k: number): IndexHit[] {
    if (!this.index || this.byId.size === 0) return [];
    if (vector.length !== this.index.dim) {
      throw new InvalidArgumentError(
        `The query embedding has ${vector.length} dimensions; this index holds ${this.index.dim}-dimensional embeddings. Embed it with the same model.`,
      );
    }
    const { ids, similarities } = this.index.search(vector, k);
    return ids.map((label, i) => {
      const entry = this.byLabel.get(label)!;
      return { id: entry.id, group: entry.group, similarity: similarities[i] };
    });
  }

  /** Writes graph, then mapping, each through a temporary file; an index with nothing in it leaves no graph file. */
  private save(): void {
    mkdirSync(path.dirname(this.basePath), { recursive: true });
    const graph = `${this.basePath}.hnsw`;
    if (this.index && this.byId.size > 0) {
      this.index.save(`${graph}.tmp`);
      renameSync(`${graph}.tmp`, graph);
      renameSync(`${graph}.tmp.json`, `${graph}.json`);
    } else {
      rmSync(graph, { force: true });
      rmSync(`${graph}.json`, { force: true });
    }
    const ids: IdsFile = {
      format: IDS_FORMAT,
      version: IDS_VERSION,
      count: this.byId.size,
      fingerprint: this.fingerprint(),
      entries: [...this.byLabel.entries()].map(([label, e]) => [label, e.id, e.group, e.digest]),
    };
    const idsPath = `${this.basePath}.ids.json`;
    writeFileSync(`${idsPath}.tmp`, JSON.stringify(ids));
    renameSync(`${idsPath}.tmp`, idsPath);
  }

  private tryLoad(expectedFingerprint: string): boolean {
    const idsPath = `${this.basePath}.ids.json`;
    if (!existsSync(idsPath)) return false;
    try {
      const ids = JSON.parse(readFileSync(idsPath, 'utf8')) as Partial<IdsFile>;
      if (ids.format !== IDS_FORMAT || ids.version !== IDS_VERSION || ids.fingerprint !== expectedFingerprint || !Array.isArray(ids.entries)) return false;
      const index = ids.entries.length > 0 ? VectorIndex.load(`${this.basePath}.hnsw`) : undefined;
      const labels = new Set(index?.ids() ?? []);
      if (labels.size !== ids.entries.length || ids.entries.some(([label]) => !labels.has(label))) return false;
      this.index = index;
      for (const [label, id, group, digest] of ids.entries) {
        this.byLabel.set(label, { id, group, digest });
        this.byId.set(id, label);
      }
      return true;
    } catch {
      // Unreadable or half-written files: the database has everything to rebuild them.
      return false;
    }
  }

  private rebuild(items: readonly { entry: Entry; vector: Float32Array }[]): void {
    this.byLabel.clear();
    this.byId.clear();
    this.index = items.length > 0 ? new VectorIndex(items[0].vector.length, { capacity: Math.max(16, items.length) }) : undefined;
    items.forEach(({ entry, vector }, label) => {
      this.index!.add(vector, label);
      this.byLabel.set(label, entry);
      this.byId.set(entry.id, label);
    });
  }
}

/** The two indexes of one embedding model. */
export interface ModelIndexes {
  enrollments: PersistentIndex;
  speakers: PersistentIndex;
  /** Which of the two were rebuilt from the database on open. */
  rebuilt: { enrollments: boolean; speakers: boolean };
}

export function indexRoot(dataDir: string): string {
  return path.join(dataDir, 'index');
}

export function modelIndexDir(dataDir: string, modelHash: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(modelHash) || modelHash.startsWith('.')) {
    throw new InvalidArgumentError(`Model hash "${modelHash}" cannot name an index folder: use letters, digits, ".", "_" or "-" (e.g. a sha256 in hex).`);
  }
  return path.join(indexRoot(dataDir), modelHash);
}

/** Opens (or rebuilds) both indexes of `modelHash` from the store's records of that model. */
export async function openModelIndexes(store: Store, options: { dataDir: string; modelHash: string }): Promise<ModelIndexes> {
  const dir = modelIndexDir(options.dataDir, options.modelHash);
  const [enrollments, speakers] = await Promise.all([store.enrollmentsOfModel(options.modelHash), store.speakersOfModel(options.modelHash)]);
  const e = PersistentIndex.open(
    path.join(dir, 'enrollments'),
    enrollments.map((r) => ({ id: r.id, group: r.personId, vector: r.embedding })),
  );
  const s = PersistentIndex.open(
    path.join(dir, 'speakers'),
    speakers.map((r) => ({ id: r.id, group: r.meetingId, vector: r.centroid })),
  );
  return { enrollments: e.index, speakers: s.index, rebuilt: { enrollments: e.rebuilt, speakers: s.rebuilt } };
}

/** Deletes the index folders of every model but `keepModelHash` (they hold embeddings; the database rebuilds them when needed). */
export function removeOtherModelIndexes(dataDir: string, keepModelHash: string): string[] {
  const root = indexRoot(dataDir);
  if (!existsSync(root)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    if (name === keepModelHash) continue;
    rmSync(path.join(root, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
