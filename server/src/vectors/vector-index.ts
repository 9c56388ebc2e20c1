/**
 * Approximate nearest-neighbour index over cosine similarity (HNSW).
 *
 * The only module that imports hnswlib-node: clustering (representative building) and speaker
 * enrollment both talk to this class. Vectors go in as Float32Array of length `dim`; they need
 * not be normalised (the cosine space normalises its own copy), but must be finite and non-zero.
 *
 * hnswlib's cosine space answers distances `1 - cos`; this wrapper converts them back to
 * similarities, best first.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { HierarchicalNSW } from 'hnswlib-node';
import { FileNotFoundError, InvalidArgumentError } from '../common/errors';

export interface VectorIndexOptions {
  /** Initial number of slots; the index grows by doubling when full. */
  capacity?: number;
  /** HNSW graph degree (hnswlib `M`). */
  m?: number;
  /** Candidate list size while inserting (accuracy/speed trade-off of construction). */
  efConstruction?: number;
  /** Candidate list size while searching; raised to `k` when a search asks for more. */
  efSearch?: number;
  /** Seed of hnswlib's level generator, so a build is reproducible. */
  randomSeed?: number;
}

export interface VectorSearchResult {
  /** Ids of the nearest vectors, best first. */
  ids: number[];
  /** Cosine similarity of each id to the query, in the same order. */
  similarities: number[];
}

const DEFAULTS = { capacity: 1024, m: 16, efConstruction: 200, efSearch: 64, randomSeed: 100 } as const;
/** hnswlib labels are uint32. */
const MAX_ID = 0xffffffff;
const META_FORMAT = 'hnsw-cosine';
const META_VERSION = 1;

interface IndexMeta {
  format: typeof META_FORMAT;
  version: number;
  dim: number;
  m: number;
  efConstruction: number;
  efSearch: number;
  randomSeed: number;
  capacity: number;
  ids: number[];
}

export class VectorIndex {
  readonly dim: number;
  private readonly m: number;
  private readonly efConstruction: number;
  private readonly efSearch: number;
  private readonly randomSeed: number;
  private index: HierarchicalNSW;
  private capacity: number;
  /** Ids currently present. */
  private readonly live = new Set<number>();
  /** Ids removed: hnswlib keeps their slots (marked deleted) until they are added again. */
  private readonly removed = new Set<number>();
  private nextId = 0;
  /** Reused conversion buffer: hnswlib-node only accepts plain arrays. */
  private readonly scratch: number[];

  constructor(dim: number, options: VectorIndexOptions = {}) {
    if (!Number.isInteger(dim) || dim <= 0) {
      throw new InvalidArgumentError(`VectorIndex dim must be a positive integer, got ${dim}.`);
    }
    this.dim = dim;
    this.capacity = positiveInt('capacity', options.capacity ?? DEFAULTS.capacity);
    this.m = positiveInt('m', options.m ?? DEFAULTS.m);
    this.efConstruction = positiveInt('efConstruction', options.efConstruction ?? DEFAULTS.efConstruction);
    this.efSearch = positiveInt('efSearch', options.efSearch ?? DEFAULTS.efSearch);
    this.randomSeed = options.randomSeed ?? DEFAULTS.randomSeed;
    this.scratch = new Array<number>(dim).fill(0);
    this.index = new HierarchicalNSW('cosine', dim);
    this.index.initIndex({
      maxElements: this.capacity,
      m: this.m,
      efConstruction: this.efConstruction,
      randomSeed: this.randomSeed,
    });
    this.index.setEf(this.efSearch);
  }

  /** Number of vectors present (removed ones excluded). */
  get size(): number {
    return this.live.size;
  }

  has(id: number): boolean {
    return this.live.has(id);
  }

  /** Ids present, in no particular order. */
  ids(): number[] {
    return [...this.live];
  }

  /**
   * Adds a vector and returns its id: `id` when given (an existing id is replaced), otherwise
   * one more than the largest id used so far. Grows the index when it is full.
   */
  add(vector: ArrayLike<number>, id?: number): number {
    const label = id ?? this.nextId;
    if (!Number.isInteger(label) || label < 0 || label > MAX_ID) {
      throw new InvalidArgumentError(`VectorIndex id must be an integer in [0, ${MAX_ID}], got ${label}.`);
    }
    const point = this.toPoint(vector, 'vector');
    if (!this.live.has(label) && !this.removed.has(label)) {
      const used = this.index.getCurrentCount(); // removed labels included: they keep their slots
      if (used >= this.capacity) this.grow(Math.max(this.capacity * 2, used + 1));
    }
    // An existing label is updated in place; a removed one is also undeleted by hnswlib.
    this.index.addPoint(point, label, false);
    this.removed.delete(label);
    this.live.add(label);
    if (label >= this.nextId) this.nextId = label + 1;
    return label;
  }

  /** The `k` most similar vectors (fewer when the index holds fewer), best first. */
  search(vector: ArrayLike<number>, k: number): VectorSearchResult {
    if (!Number.isInteger(k) || k <= 0) {
      throw new InvalidArgumentError(`VectorIndex.search k must be a positive integer, got ${k}.`);
    }
    const point = this.toPoint(vector, 'query');
    const count = Math.min(k, this.live.size);
    if (count === 0) return { ids: [], similarities: [] };
    this.index.setEf(Math.max(this.efSearch, count));
    const { distances, neighbors } = this.index.searchKnn(point, count);
    return { ids: neighbors, similarities: distances.map((d) => 1 - d) };
  }

  /** Removes a vector (hnswlib marks it deleted; `add` with the same id restores it). */
  remove(id: number): boolean {
    if (!this.live.has(id)) return false;
    this.index.markDelete(id);
    this.live.delete(id);
    this.removed.add(id);
    return true;
  }

  /**
   * Removes a vector so that a later `save` no longer holds it: `remove` alone keeps the data of a
   * marked-deleted slot in memory and in the file. The slot is first overwritten with a random
   * direction (hnswlib updates in place), then marked deleted. Neighbour lists that pointed at it keep
   * pointing at the slot; rebuild the index when even that must go.
   */
  erase(id: number): boolean {
    if (!this.live.has(id)) return false;
    const noise = new Float32Array(this.dim);
    for (let i = 0; i < this.dim; i++) noise[i] = Math.random() - 0.5;
    noise[0] += 1e-3; // never all-zero
    this.add(noise, id);
    return this.remove(id);
  }

  /** The stored vector (L2-normalised by the cosine space). */
  get(id: number): Float32Array {
    if (!this.live.has(id)) throw new InvalidArgumentError(`VectorIndex has no vector with id ${id}.`);
    return Float32Array.from(this.index.getPoint(id));
  }

  /** Writes the graph to `path` and its settings to `path + '.json'`. */
  save(path: string): void {
    this.index.writeIndexSync(path);
    const meta: IndexMeta = {
      format: META_FORMAT,
      version: META_VERSION,
      dim: this.dim,
      m: this.m,
      efConstruction: this.efConstruction,
      efSearch: this.efSearch,
      randomSeed: this.randomSeed,
      capacity: this.capacity,
      ids: [...this.live].sort((a, b) => a - b),
    };
    writeFileSync(metaPath(path), JSON.stringify(meta));
  }

  /** Reads an index written by `save`. */
  static load(path: string): VectorIndex {
    if (!existsSync(path)) throw new FileNotFoundError(path);
    if (!existsSync(metaPath(path))) throw new FileNotFoundError(metaPath(path));
    const meta = parseMeta(readFileSync(metaPath(path), 'utf8'), metaPath(path));
    const loaded = new VectorIndex(meta.dim, {
      capacity: meta.capacity,
      m: meta.m,
      efConstruction: meta.efConstruction,
      efSearch: meta.efSearch,
      randomSeed: meta.randomSeed,
    });
    loaded.index.readIndexSync(path, false);
    if (loaded.index.getNumDimensions() !== meta.dim) {
      throw new InvalidArgumentError(`Index "${path}" has ${loaded.index.getNumDimensions()} dimensions but its metadata says ${meta.dim}.`);
    }
    loaded.index.setEf(meta.efSearch);
    loaded.capacity = loaded.index.getMaxElements();
    for (const id of meta.ids) loaded.live.add(id);
    let maxId = -1;
    for (const id of loaded.index.getIdsList()) {
      if (!loaded.live.has(id)) loaded.removed.add(id);
      if (id > maxId) maxId = id;
    }
    loaded.nextId = maxId + 1;
    return loaded;
  }

  private grow(newCapacity: number): void {
    this.index.resizeIndex(newCapacity);
    this.capacity = newCapacity;
  }

  private toPoint(vector: ArrayLike<number>, what: string): number[] {
    if (vector.length !== this.dim) {
      throw new InvalidArgumentError(`VectorIndex ${what} has length ${vector.length}, expected ${this.dim}.`);
    }
    const out = this.scratch;
    let norm = 0;
    for (let i = 0; i < this.dim; i++) {
      const v = vector[i];
      out[i] = v;
      norm += v * v;
    }
    if (!Number.isFinite(norm) || norm === 0) {
      throw new InvalidArgumentError(`VectorIndex ${what} must be finite and non-zero (cosine needs a direction).`);
    }
    return out;
  }
}

function metaPath(path: string): string {
  return `${path}.json`;
}

function positiveInt(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`VectorIndex option ${name} must be a positive integer, got ${value}.`);
  }
  return value;
}

function parseMeta(text: string, path: string): IndexMeta {
  let meta: Partial<IndexMeta>;
  try {
    meta = JSON.parse(text) as Partial<IndexMeta>;
  } catch (cause) {
    throw new InvalidArgumentError(`"${path}" is not valid JSON (${String(cause)}); it should be written by VectorIndex.save.`);
  }
  if (meta.format !== META_FORMAT || meta.version !== META_VERSION || typeof meta.dim !== 'number' || !Array.isArray(meta.ids)) {
    throw new InvalidArgumentError(`"${path}" is not VectorIndex metadata (format ${META_FORMAT} v${META_VERSION}); re-save the index with VectorIndex.save.`);
  }
  return meta as IndexMeta;
}
