import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Kysely, sql } from 'kysely';

import { dropPostgresSchema, openStore } from '../database';
import type { KyselyStore } from '../kysely-store';

import type { TranscriptSegmentInsert } from '../types';
import { describeStore, PG_URL, rejection } from '../store-spec-support';
import { searchTerms } from './transcript-repository';

describeStore('transcript repository', (fx) => {
  const cues = [
    { startSec: 0, endSec: 2, text: 'Hello and welcome to the refund review' },
    { startSec: 2, endSec: 4, text: 'Thanks, the refund policy changed in May' },
  ];

  async function withTranscript(segments?: (speakers: string[]) => TranscriptSegmentInsert[]) {
    const { meeting, speakers } = await fx.diarized();
    const ids = speakers.map((s) => s.id);
    const rows = segments?.(ids) ?? [
      { startSec: 0, endSec: 2, text: cues[0].text, speakerId: ids[0], overlap: false },
      {
        startSec: 2,
        endSec: 4,
        text: cues[1].text,
        speakerId: ids[1],
        overlap: true,
        words: [
          { startSec: 2, endSec: 2.4, text: 'Thanks,' },
          { startSec: 2.5, endSec: 2.7, text: 'the' },
        ],
      },
    ];
    const transcript = await fx.store.replaceTranscript(meeting.id, { format: 'VTT', cues, segments: rows });
    return { meeting, ids, transcript };
  }

  it('stores the transcript, its cues and its segments in order, and pages them', async () => {
    const { meeting, ids, transcript } = await withTranscript();
    expect(transcript).toMatchObject({ meetingId: meeting.id, format: 'VTT', cueCount: 2, wordCount: 7 + 2 });
    expect(await fx.store.getTranscript(meeting.id)).toEqual(transcript);
    expect(await fx.store.transcriptCues(meeting.id)).toEqual(cues);

    const all = await fx.store.transcriptSegments(meeting.id);
    expect(all.totalCount).toBe(2);
    expect(all.items.map((s) => [s.position, s.speakerId, s.overlap, s.wordCount])).toEqual([
      [0, ids[0], false, 7],
      [1, ids[1], true, 2],
    ]);
    expect(all.items[0].words).toBeUndefined();
    expect(all.items[1].words).toEqual([
      { startSec: 2, endSec: 2.4, text: 'Thanks,' },
      { startSec: 2.5, endSec: 2.7, text: 'the' },
    ]);

    const first = await fx.store.transcriptSegments(meeting.id, 1);
    expect(first.items.map((s) => s.position)).toEqual([0]);
    expect(first.hasNextPage).toBe(true);
    const second = await fx.store.transcriptSegments(meeting.id, 1, first.endCursor);
    expect(second.items.map((s) => s.position)).toEqual([1]);
    expect(second.hasNextPage).toBe(false);
    expect((await rejection(fx.store.transcriptSegments(meeting.id, 1, 'not-a-cursor'))).code).toBe('INVALID_ARGUMENT');
  });

  it('replaces the previous transcript with its search entries, and realigns segments in place', async () => {
    const { meeting, ids } = await withTranscript();
    await fx.store.replaceTranscript(meeting.id, {
      format: 'SRT',
      cues: [{ startSec: 1, endSec: 3, text: 'Completely different words' }],
      segments: [{ startSec: 1, endSec: 3, text: 'Completely different words', speakerId: ids[1], overlap: false }],
    });
    expect((await fx.store.getTranscript(meeting.id))!.format).toBe('SRT');
    const only = { text: 'refund', filter: { ids: [meeting.id] } };
    expect((await fx.store.searchTranscripts(only, 10)).items).toEqual([]);
    expect((await fx.store.searchTranscripts({ ...only, text: 'different' }, 10)).items).toHaveLength(1);

    expect(
      await fx.store.writeTranscriptSegments(meeting.id, [{ startSec: 1, endSec: 3, text: 'Completely different words', speakerId: ids[0], overlap: false }]),
    ).toBe(true);
    const hits = await fx.store.searchTranscripts({ ...only, text: 'different' }, 10);
    expect(hits.items.map((h) => h.speakerId)).toEqual([ids[0]]);
    expect(await fx.store.writeTranscriptSegments(randomUUID(), [])).toBe(false);
  });

  it('refuses a transcript for a meeting that does not exist', async () => {
    const error = await rejection(fx.store.replaceTranscript(randomUUID(), { format: 'VTT', cues, segments: [] }));
    expect(error.code).toBe('NOT_FOUND');
  });

  it('finds words and phrases with a highlighted snippet, filtered by meeting, speaker and person', async () => {
    const { meeting, ids } = await withTranscript();
    const other = await withTranscript();
    const person = await fx.newPerson('Ada');
    await fx.store.updateSpeaker(ids[1], { personId: person.id, personSource: 'manual' });

    const phrase = await fx.store.searchTranscripts({ text: '"refund policy"', filter: { ids: [meeting.id, other.meeting.id] } }, 10);
    expect(phrase.items.map((h) => h.meetingId).sort()).toEqual([meeting.id, other.meeting.id].sort());
    // SQLite marks the phrase as one, PostgreSQL word by word.
    expect(phrase.items[0].snippet).toMatch(/^Thanks, the <mark>refund(<\/mark> <mark>| )policy<\/mark> changed in May$/);
    expect(phrase.items[0]).toMatchObject({ position: 1, startSec: 2, endSec: 4 });

    // Both words, in any order, and nothing where one is missing.
    expect((await fx.store.searchTranscripts({ text: 'May refund', filter: { ids: [meeting.id] } }, 10)).items).toHaveLength(1);
    expect((await fx.store.searchTranscripts({ text: 'May welcome', filter: { ids: [meeting.id] } }, 10)).items).toHaveLength(0);

    const byPerson = await fx.store.searchTranscripts({ text: 'refund', filter: {}, personId: person.id }, 10);
    expect(byPerson.items.map((h) => [h.meetingId, h.speakerId])).toEqual([[meeting.id, ids[1]]]);
    const bySpeaker = await fx.store.searchTranscripts({ text: 'refund', filter: {}, speakerId: ids[0] }, 10);
    expect(bySpeaker.items.map((h) => h.position)).toEqual([0]);

    // Pages: offset cursors bound to the same search.
    const search = { text: 'refund', filter: { ids: [meeting.id, other.meeting.id] } };
    const page1 = await fx.store.searchTranscripts(search, 3);
    expect(page1.hasNextPage).toBe(true);
    const page2 = await fx.store.searchTranscripts(search, 3, page1.endCursor);
    expect(page2.hasNextPage).toBe(false);
    expect(page1.items.length + page2.items.length).toBe(4);
    expect((await rejection(fx.store.searchTranscripts({ ...search, text: 'other' }, 3, page1.endCursor))).code).toBe('INVALID_ARGUMENT');
  });

  it('treats search syntax as plain words', async () => {
    const { meeting } = await withTranscript();
    for (const text of ['refund AND', 'refund"', 'NOT refund', 'refund*', 'refund:policy', "refund's"]) {
      const result = await fx.store.searchTranscripts({ text, filter: { ids: [meeting.id] } }, 10);
      expect(Array.isArray(result.items)).toBe(true);
    }
    expect((await rejection(fx.store.searchTranscripts({ text: ' "" ', filter: {} }, 10))).code).toBe('INVALID_ARGUMENT');
  });

  it('counts words per speaker', async () => {
    const { meeting, ids } = await withTranscript();
    const words = await fx.store.transcriptWordsBySpeaker([meeting.id]);
    expect(words.sort((a, b) => a.words - b.words)).toEqual([
      { meetingId: meeting.id, speakerId: ids[1], words: 2 },
      { meetingId: meeting.id, speakerId: ids[0], words: 7 },
    ]);
  });

  it('keeps segments when a speaker goes (speaker cleared), and deleteTranscript / deleteMeeting remove everything', async () => {
    const { meeting, ids } = await withTranscript();
    await fx.store.writeDiarization({ meetingId: meeting.id, durationSec: 120, speakers: [], turns: [] });
    const orphaned = await fx.store.transcriptSegments(meeting.id);
    expect(orphaned.items.map((s) => s.speakerId)).toEqual([undefined, undefined]);
    expect(ids).toHaveLength(2);

    expect(await fx.store.deleteTranscript(meeting.id)).toBe(true);
    expect(await fx.store.deleteTranscript(meeting.id)).toBe(false);
    expect(await fx.store.getTranscript(meeting.id)).toBeUndefined();
    expect((await fx.store.transcriptSegments(meeting.id)).totalCount).toBe(0);

    const again = await withTranscript();
    await fx.store.deleteMeeting(again.meeting.id);
    expect(await fx.store.getTranscript(again.meeting.id)).toBeUndefined();
    expect((await fx.store.searchTranscripts({ text: 'welcome', filter: { ids: [again.meeting.id] } }, 10)).items).toEqual([]);
    // No search entry outlives its segment (an FTS5 row without content would still match on SQLite).
    expect((await fx.store.searchTranscripts({ text: 'welcome', filter: {} }, 100)).items.every((h) => h.meetingId !== again.meeting.id)).toBe(true);
    if (fx.kind === 'sqlite') {
      // No FTS5 entry outlives its segment: the cascade fires the delete trigger (integrity-check throws otherwise).
      const db = (fx.store as unknown as { db: Kysely<unknown> }).db;
      await sql`insert into transcript_fts(transcript_fts) values ('integrity-check')`.execute(db);
      const left = await sql<{ n: number }>`select count(*) as n from transcript_fts where transcript_fts match 'welcome'`.execute(db);
      const stored = await sql<{ n: number }>`select count(*) as n from transcript_segments where text like '%welcome%'`.execute(db);
      expect(Number(left.rows[0].n)).toBe(Number(stored.rows[0].n));
    }
  });
});

describe('searchTerms', () => {
  it('keeps quoted phrases whole, drops terms without letters or digits, and bounds the size', () => {
    expect(searchTerms('refund "policy  change" May')).toEqual(['refund', 'policy change', 'May']);
    expect(searchTerms('"unbalanced quote')).toEqual(['unbalanced quote']);
    expect(searchTerms('refund - ?')).toEqual(['refund']);
    expect(() => searchTerms('  ')).toThrow(/at least one word/);
    expect(() => searchTerms('a '.repeat(21))).toThrow(/at most 20/);
    expect(() => searchTerms('x'.repeat(501))).toThrow(/at most 500/);
  });
});

describe('copying an embedded store with transcripts to PostgreSQL', () => {
  it('copies transcripts and segments; PostgreSQL indexes them for search and numbers new segments after the copied ones', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'transcript-copy-'));
    const schema = `transcript_copy_${process.pid}_${Date.now().toString(36)}`;
    const source = (await openStore({ dataDir })) as KyselyStore;
    const target = (await openStore({ databaseUrl: PG_URL, dataDir, schema })) as KyselyStore;
    try {
      await source.migrate();
      await target.migrate();
      const uploadId = randomUUID();
      await source.insertUpload({
        id: uploadId,
        originalName: 'a.wav',
        path: `uploads/${uploadId}`,
        bytes: 1,
        format: 'wav',
        durationSec: 10,
        createdAt: new Date().toISOString(),
      });
      const meeting = await source.insertMeeting({ id: randomUUID(), title: 'Copied', tags: [], uploadId, audioPath: `uploads/${uploadId}`, durationSec: 10 });
      const line = (text: string, startSec: number) => ({ startSec, endSec: startSec + 1, text, overlap: false });
      await source.replaceTranscript(meeting.id, {
        format: 'SRT',
        cues: [{ startSec: 0, endSec: 1, text: 'copied walrus' }],
        segments: [line('copied walrus', 0)],
      });

      const counts = await source.copyAllRowsTo(target);
      expect(counts).toMatchObject({ transcripts: 1, transcript_segments: 1 });
      expect((await target.searchTranscripts({ text: 'walrus', filter: {} }, 10)).items.map((h) => h.meetingId)).toEqual([meeting.id]);
      expect(await target.transcriptCues(meeting.id)).toEqual([{ startSec: 0, endSec: 1, text: 'copied walrus' }]);
      // The serial sequence moved past the copied ids: realigning inserts without a key clash.
      expect(await target.writeTranscriptSegments(meeting.id, [line('copied walrus', 0), line('second line', 1)])).toBe(true);
      expect((await target.transcriptSegments(meeting.id)).totalCount).toBe(2);
    } finally {
      await source.close();
      await target.close();
      await dropPostgresSchema(PG_URL, schema);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
