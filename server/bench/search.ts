/**
 * bench:search — full-text transcript search over --meetings one-hour meetings (default 1,000), on
 * SQLite (FTS5) and PostgreSQL (tsvector + GIN), through the store as the API calls it.
 *
 *   npm run -s bench:search -- [--meetings 1000] [--queries 200] [--dialects sqlite,postgres]
 *     [--database-url postgres://postgres@127.0.0.1:5432/test] [--keep]
 *
 * Each meeting: 4 speakers (one assigned to a person), one line every 4 s (900 lines an hour) of
 * 8–16 words drawn from a 20,000-word vocabulary with Zipf frequencies (like speech: a few words are
 * everywhere, most are rare). Transcripts are inserted directly with replaceTranscript. Queries mix a
 * rare word, a mid-frequency word, two words, a phrase taken from a stored line, and a phrase by one
 * person; the first page (20 hits, best first, with snippets) is timed, PostgreSQL after ANALYZE. Prints p50/p95 per dialect
 * and query kind; PostgreSQL works in a throwaway schema, dropped at the end. Never fails on timing.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

import { seededRandom } from '../src/clustering/random';
import { analyzePostgresSchema, dropPostgresSchema, openStore } from '../src/store/database';
import type { Store, TranscriptSegmentInsert } from '../src/store/types';
import { fixed, formatTable, machineSummary, numberArg, scratchDir } from './common';

const VOCABULARY = 20_000;
const LINES_PER_MEETING = 900; // one every 4 s over an hour
const SPEAKERS = 4;
const QUERY_KINDS = ['rare word', 'mid word', 'two words', 'phrase', 'phrase by person'] as const;
type QueryKind = (typeof QUERY_KINDS)[number];

interface Options {
  meetings: number;
  queries: number;
  dialects: Array<'sqlite' | 'postgres'>;
  databaseUrl: string;
  keep: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      meetings: { type: 'string', default: '1000' },
      queries: { type: 'string', default: '200' },
      dialects: { type: 'string', default: 'sqlite,postgres' },
      // Leaves the PostgreSQL schema in place (named on stderr), for EXPLAIN ANALYZE by hand.
      keep: { type: 'boolean', default: false },
      'database-url': { type: 'string', default: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' },
    },
  });
  return {
    meetings: numberArg(values.meetings, '--meetings', 'positive-int')!,
    queries: numberArg(values.queries, '--queries', 'positive-int')!,
    dialects: values.dialects.split(',').map((d) => {
      if (d !== 'sqlite' && d !== 'postgres') throw new Error(`--dialects takes sqlite and/or postgres, got "${d}".`);
      return d;
    }),
    databaseUrl: values['database-url'],
    keep: values.keep,
  };
}

const SYLLABLES = ['ka', 'lo', 'mi', 're', 'tu', 'sa', 'ne', 'vi', 'do', 'pa', 'ri', 'go', 'be', 'zu', 'fe', 'ha', 'ju', 'ty', 'wo', 'xe'];
/** Word of rank r: distinct pseudo-words, short ones for frequent ranks. */
function word(rank: number): string {
  let n = rank;
  let out = '';
  do {
    out += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  } while (n > 0);
  return out;
}

/** Zipf (s = 1) sampler over VOCABULARY ranks by inverse CDF on the harmonic sums. */
function zipfSampler(rand: () => number): () => number {
  const cumulative = new Float64Array(VOCABULARY);
  let sum = 0;
  for (let r = 0; r < VOCABULARY; r++) cumulative[r] = sum += 1 / (r + 1);
  return () => {
    const target = rand() * sum;
    let lo = 0;
    let hi = VOCABULARY - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

interface Seeded {
  personId: string;
  /** A few stored lines to take phrases from. */
  sampleLines: string[];
  insertSec: number;
}

async function seed(store: Store, meetings: number): Promise<Seeded> {
  const rand = seededRandom(42); // the same text and queries on both dialects
  const nextRank = zipfSampler(rand);
  const personId = randomUUID();
  await store.insertPerson({ id: personId, name: 'Ada', metadata: {} });
  const sampleLines: string[] = [];
  const started = process.hrtime.bigint();
  for (let m = 0; m < meetings; m++) {
    const uploadId = randomUUID();
    const meetingId = randomUUID();
    await store.insertUpload({
      id: uploadId,
      originalName: 'call.wav',
      path: `uploads/${uploadId}`,
      bytes: 1,
      format: 'wav',
      durationSec: 3600,
      createdAt: new Date().toISOString(),
    });
    await store.insertMeeting({ id: meetingId, title: `Call ${m}`, tags: [], uploadId, audioPath: `uploads/${uploadId}`, durationSec: 3600 });
    const speakers = Array.from({ length: SPEAKERS }, (_, i) => ({
      id: randomUUID(),
      meetingId,
      label: `SPEAKER_0${i}`,
      talkTimeSec: 900,
      centroid: new Float32Array(4),
      modelName: 'bench',
      modelHash: 'bench',
      ...(i === 0 && m % 10 === 0 ? { personId, personSource: 'manual' as const } : {}),
    }));
    await store.writeDiarization({ meetingId, durationSec: 3600, speakers, turns: [] });
    const segments: TranscriptSegmentInsert[] = [];
    for (let line = 0; line < LINES_PER_MEETING; line++) {
      const length = 8 + Math.floor(rand() * 9);
      const text = Array.from({ length }, () => word(nextRank())).join(' ');
      if (m % 50 === 0 && line % 100 === 0) sampleLines.push(text);
      segments.push({ startSec: line * 4, endSec: line * 4 + 3.8, text, speakerId: speakers[line % SPEAKERS].id, overlap: false });
    }
    await store.replaceTranscript(meetingId, {
      format: 'VTT',
      cues: segments.map((s) => ({ startSec: s.startSec, endSec: s.endSec, text: s.text })),
      segments,
    });
    if ((m + 1) % 100 === 0) process.stderr.write(`  ${store.kind}: ${m + 1}/${meetings} meetings\n`);
  }
  return { personId, sampleLines, insertSec: Number(process.hrtime.bigint() - started) / 1e9 };
}

function queries(count: number, seeded: Seeded): Array<{ kind: QueryKind; text: string; personId?: string }> {
  const rand = seededRandom(7);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)];
  const phraseOf = () => {
    const words = pick(seeded.sampleLines).split(' ');
    const at = Math.floor(rand() * (words.length - 1));
    return `"${words[at]} ${words[at + 1]}"`;
  };
  return Array.from({ length: count }, (_, i) => {
    const kind = QUERY_KINDS[i % QUERY_KINDS.length];
    switch (kind) {
      case 'rare word':
        return { kind, text: word(2000 + Math.floor(rand() * 18_000)) };
      case 'mid word':
        return { kind, text: word(100 + Math.floor(rand() * 900)) };
      case 'two words':
        return { kind, text: `${word(50 + Math.floor(rand() * 450))} ${word(50 + Math.floor(rand() * 450))}` };
      case 'phrase':
        return { kind, text: phraseOf() };
      case 'phrase by person':
        return { kind, text: phraseOf(), personId: seeded.personId };
    }
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const options = parseOptions();
  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  for (const dialect of options.dialects) {
    const scratch = scratchDir('bench-search');
    const schema = `bench_search_${process.pid}`;
    const store =
      dialect === 'sqlite' ? await openStore({ dataDir: scratch.dir }) : await openStore({ databaseUrl: options.databaseUrl, dataDir: scratch.dir, schema });
    try {
      await store.migrate();
      const seeded = await seed(store, options.meetings);
      // Statistics as autovacuum leaves them after a load: without them the planner takes a phrase of
      // common words for a handful of rows and loops over its matches (4× slower by person).
      if (dialect === 'postgres') await analyzePostgresSchema(options.databaseUrl, schema);
      const list = queries(options.queries, seeded);
      // One untimed pass warms the caches, as a running server's would be.
      for (const q of list.slice(0, 10)) await store.searchTranscripts({ text: q.text, filter: {}, personId: q.personId }, 20);
      const byKind = new Map<string, number[]>();
      const hits: number[] = [];
      for (const q of list) {
        const started = process.hrtime.bigint();
        const page = await store.searchTranscripts({ text: q.text, filter: {}, personId: q.personId }, 20);
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        for (const key of [q.kind, 'all']) byKind.set(key, [...(byKind.get(key) ?? []), ms]);
        hits.push(page.items.length);
      }
      for (const kind of [...QUERY_KINDS, 'all']) {
        const sorted = [...byKind.get(kind)!].sort((a, b) => a - b);
        rows.push([
          dialect,
          kind,
          String(sorted.length),
          fixed(percentile(sorted, 50), 1),
          fixed(percentile(sorted, 95), 1),
          fixed(sorted[sorted.length - 1], 1),
        ]);
        summary[`${dialect}.${kind}`] = { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
      }
      summary[`${dialect}.insertSec`] = seeded.insertSec;
      summary[`${dialect}.pagesWithHits`] = hits.filter((n) => n > 0).length / hits.length;
      process.stderr.write(`  ${dialect}: inserted ${options.meetings * LINES_PER_MEETING} lines in ${fixed(seeded.insertSec, 0)} s\n`);
    } finally {
      await store.close();
      if (dialect === 'postgres' && !options.keep) await dropPostgresSchema(options.databaseUrl, schema);
      if (dialect === 'postgres' && options.keep) process.stderr.write(`  kept PostgreSQL schema ${schema}\n`);
      scratch.cleanup();
    }
  }
  console.log(
    `bench:search — ${options.meetings} one-hour meetings (${options.meetings * LINES_PER_MEETING} lines), first page of 20 hits; ${machineSummary()}`,
  );
  console.log(formatTable(['dialect', 'query', 'n', 'p50 ms', 'p95 ms', 'max ms'], rows));
  console.log(JSON.stringify(summary));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
