/**
 * Transcripts over GraphQL against a real server, on SQLite and on PostgreSQL: attach before the
 * diarization ends, pages, speakers kept right through rename / assign / merge / re-diarization,
 * search by phrase and person, exports, stats, every bad input (nothing stored, previous kept), and
 * the deletes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { Engine } from '../server/src/diarization/engine';
import { parseTranscript } from '../server/src/transcripts/parse';
import { startTestServer, TestServer, uploadFile, waitFor } from './support/platform';
import { vttTimestamp, webVtt } from './support/webvtt';

const SAMPLE = path.resolve(__dirname, '../../shared/data/dev/diarization/pyannote_sample.wav');
/** Over the limit the test server is given (MAX_TRANSCRIPT_MB ≈ 0.05). */
const MAX_TRANSCRIPT_BYTES = 50_000;

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({ threads: 2 });
});
afterAll(async () => {
  await engine.release();
});

/** 14 cues of 2 s over the 30 s sample; cue 5 speaks about the refund policy. */
const CUES = Array.from({ length: 14 }, (_, i) => ({
  start: 1 + i * 2,
  end: 2.8 + i * 2,
  text: i === 5 ? 'The refund policy changed last spring' : `Line ${i + 1} of the weekly call`,
}));
const VTT = webVtt(CUES);

interface Segment {
  start: number;
  end: number;
  text: string;
  overlap: boolean;
  speaker: { id: string; label: string; person: { name: string } | null } | null;
  words: Array<{ start: number; end: number; text: string }>;
}
interface Page {
  totalCount: number;
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
  nodes: Segment[];
}
const SEGMENT = 'start end text overlap speaker { id label person { name } } words { start end text }';

async function transcriptPage(server: TestServer, id: string, first?: number, after?: string | null): Promise<Page> {
  const res = await server.gql<{ meeting: { transcript: Page } }>(
    `query($id: ID!, $first: Int, $after: String) { meeting(id: $id) { transcript(first: $first, after: $after) { totalCount pageInfo { endCursor hasNextPage } nodes { ${SEGMENT} } } } }`,
    { id, first: first ?? 1000, after: after ?? null },
  );
  expect(res.errors).toBeUndefined();
  return res.data!.meeting.transcript;
}

async function speakersOf(server: TestServer, id: string): Promise<Array<{ id: string; label: string }>> {
  const res = await server.gql<{ meeting: { speakers: Array<{ id: string; label: string }> } }>(
    'query($id: ID!) { meeting(id: $id) { speakers { id label } } }',
    {
      id,
    },
  );
  return res.data!.meeting.speakers;
}

async function turnsOf(server: TestServer, id: string): Promise<Array<{ start: number; end: number; speaker: { id: string } }>> {
  const res = await server.gql<{ meeting: { turns: { nodes: Array<{ start: number; end: number; speaker: { id: string } }> } } }>(
    'query($id: ID!) { meeting(id: $id) { turns { nodes { start end speaker { id } } } } }',
    { id },
  );
  return res.data!.meeting.turns.nodes;
}

/** The speaker whose turns cover most of [start, end] (what alignment must pick when a turn covers it). */
function mostCovering(turns: Array<{ start: number; end: number; speaker: { id: string } }>, start: number, end: number): string | undefined {
  const cover = new Map<string, number>();
  for (const t of turns) {
    const c = Math.min(t.end, end) - Math.max(t.start, start);
    if (c > 0) cover.set(t.speaker.id, (cover.get(t.speaker.id) ?? 0) + c);
  }
  return [...cover.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

async function finished(server: TestServer, jobId: string): Promise<string> {
  return waitFor(`job ${jobId}`, async () => {
    const state = (await server.gql<{ job: { state: string } }>('query($id: ID!) { job(id: $id) { state } }', { id: jobId })).data!.job.state;
    return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(state) ? state : undefined;
  });
}

async function attach(server: TestServer, meetingId: string, format: string, content: string) {
  return server.gql<{ attachTranscript: { meetingId: string; format: string; cueCount: number; wordCount: number } }>(
    'mutation($m: ID!, $f: TranscriptFormat!, $c: String!) { attachTranscript(meetingId: $m, format: $f, content: $c) { meetingId format cueCount wordCount } }',
    { m: meetingId, f: format, c: content },
  );
}

async function search(server: TestServer, query: string, extra: Record<string, unknown> = {}) {
  const res = await server.gql<{
    searchTranscripts: { nodes: Array<{ meeting: { id: string }; speaker: { id: string } | null; start: number; end: number; snippet: string }> };
  }>(
    'query($q: String!, $filter: MeetingFilter, $p: ID, $s: ID) { searchTranscripts(query: $q, filter: $filter, personId: $p, speakerId: $s) { nodes { meeting { id } speaker { id } start end snippet } } }',
    { q: query, ...extra },
  );
  expect(res.errors).toBeUndefined();
  return res.data!.searchTranscripts.nodes;
}

async function exportAs(server: TestServer, id: string, format: string) {
  return server.gql<{ meeting: { export: string } }>(`query($id: ID!) { meeting(id: $id) { export(format: ${format}) } }`, { id });
}

describe.each(['sqlite', 'postgres'] as const)('transcripts on %s', (backend) => {
  let server: TestServer;
  let meetingId: string;

  beforeAll(async () => {
    server = await startTestServer({ backend, engine, config: { maxTranscriptBytes: MAX_TRANSCRIPT_BYTES } });
    const upload = await uploadFile(server, SAMPLE);
    const made = await server.gql<{ createMeeting: { id: string; latestJob: { id: string } } }>(
      'mutation($u: ID!) { createMeeting(input: { uploadId: $u, title: "Refund review" }) { id latestJob { id } } }',
      { u: upload.body.id },
    );
    meetingId = made.data!.createMeeting.id;
    // Attached while the job is queued or running: aligned when it ends.
    const attached = await attach(server, meetingId, 'VTT', VTT);
    expect(attached.errors).toBeUndefined();
    expect(attached.data!.attachTranscript).toMatchObject({ meetingId, format: 'VTT', cueCount: 14 });
    expect(await finished(server, made.data!.createMeeting.latestJob.id)).toBe('SUCCEEDED');
  });
  afterAll(async () => {
    await server.stop();
  });

  it('attributes every line to the speaker whose turns cover most of it, in pages of the asked size', async () => {
    const all = await transcriptPage(server, meetingId);
    expect(all.totalCount).toBe(14);
    expect(all.nodes.map((s) => s.text)).toEqual(CUES.map((c) => c.text));
    const turns = await turnsOf(server, meetingId);
    const speakers = new Set((await speakersOf(server, meetingId)).map((s) => s.id));
    for (const segment of all.nodes) {
      expect(segment.speaker).not.toBeNull();
      expect(speakers.has(segment.speaker!.id)).toBe(true);
      const best = mostCovering(turns, segment.start, segment.end);
      if (best) expect(segment.speaker!.id).toBe(best);
    }

    const first = await transcriptPage(server, meetingId, 5);
    expect(first.nodes).toHaveLength(5);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await transcriptPage(server, meetingId, 5, first.pageInfo.endCursor);
    expect(second.nodes.map((s) => s.text)).toEqual(CUES.slice(5, 10).map((c) => c.text));

    const tooBig = await server.gql('query($id: ID!) { meeting(id: $id) { transcript(first: 1001) { totalCount } } }', { id: meetingId });
    expect(tooBig.errors![0].extensions!.code).toBe('INVALID_ARGUMENT');

    // Priced like the other lists: a page of lines per meeting for 100 meetings is refused before it runs.
    const nested = await server.gql('{ meetings(first: 100) { nodes { transcript { nodes { text speaker { label } } } } } }');
    expect(nested.errors![0].extensions!.code).toBe('QUERY_TOO_COMPLEX');
    const searchPage = await server.gql('{ searchTranscripts(query: "weekly", first: 100) { nodes { start snippet meeting { title } } } }');
    expect(searchPage.errors).toBeUndefined();

    // Reading is for any token; attaching and deleting need ADMIN.
    const read = await server.gql<{ createToken: { secret: string } }>('mutation { createToken(name: "reader", scope: READ) { secret } }');
    const secret = read.data!.createToken.secret;
    expect((await server.gql('{ searchTranscripts(query: "weekly") { nodes { start } } }', undefined, secret)).errors).toBeUndefined();
    const denied = await server.gql('mutation($m: ID!) { deleteTranscript(meetingId: $m) }', { m: meetingId }, secret);
    expect(denied.errors![0].extensions!.code).toBe('FORBIDDEN');
    expect((await transcriptPage(server, meetingId)).totalCount).toBe(14);
  });

  it('keeps names and persons on the right lines through rename, assign, merge and re-diarization', async () => {
    const [a, b] = await speakersOf(server, meetingId);
    expect(b).toBeDefined();
    await server.gql('mutation($s: ID!) { renameSpeaker(speakerId: $s, name: "Grace") { id } }', { s: a.id });
    const person = await server.gql<{ createPerson: { id: string } }>('mutation { createPerson(input: { name: "Ada Lovelace" }) { id } }');
    const personId = person.data!.createPerson.id;
    await server.gql('mutation($s: ID!, $p: ID) { assignSpeaker(speakerId: $s, personId: $p) { id } }', { s: b.id, p: personId });

    const named = await transcriptPage(server, meetingId);
    for (const s of named.nodes) {
      if (s.speaker!.id === a.id) expect(s.speaker!.label).toBe('Grace');
      else expect(s.speaker!.person).toEqual({ name: 'Ada Lovelace' });
    }

    // Search: the phrase, then only what Ada said.
    const refund = await search(server, '"refund policy"');
    expect(refund.filter((h) => h.meeting.id === meetingId)).toHaveLength(1);
    expect(refund[0]).toMatchObject({ start: 11, end: 12.8 });
    expect(refund[0].snippet).toMatch(/<mark>refund/);
    const adaLines = named.nodes.filter((s) => s.speaker!.id === b.id);
    const byAda = await search(server, 'weekly call', { p: personId });
    expect(byAda.map((h) => h.start).sort((x, y) => x - y)).toEqual(adaLines.filter((s) => s.text.includes('weekly')).map((s) => s.start));
    expect(await search(server, 'weekly', { filter: { tag: 'no-such-tag' } })).toEqual([]);

    // Merge b into a: every line is a's.
    const merged = await server.gql('mutation($m: ID!, $k: ID!, $g: ID!) { mergeSpeakers(meetingId: $m, keepSpeakerId: $k, mergeSpeakerId: $g) { id } }', {
      m: meetingId,
      k: a.id,
      g: b.id,
    });
    expect(merged.errors).toBeUndefined();
    expect(new Set((await transcriptPage(server, meetingId)).nodes.map((s) => s.speaker?.label))).toEqual(new Set(['Grace']));

    // Re-diarize: new speaker ids, every line attributed to one of them, the name carried over.
    const batch = await server.gql<{ reprocess: { id: string } }>('mutation($ids: [ID!]) { reprocess(input: { meetingIds: $ids, kind: DIARIZE }) { id } }', {
      ids: [meetingId],
    });
    expect(batch.errors).toBeUndefined();
    await waitFor('re-diarization', async () => {
      const bt = (
        await server.gql<{ batch: { succeeded: number; failed: number } }>('query($id: ID!) { batch(id: $id) { succeeded failed } }', {
          id: batch.data!.reprocess.id,
        })
      ).data!.batch;
      return bt.succeeded + bt.failed === 1 ? bt : undefined;
    });
    const fresh = new Set((await speakersOf(server, meetingId)).map((s) => s.id));
    expect(fresh.has(a.id)).toBe(false);
    const after = await transcriptPage(server, meetingId);
    const turns = await turnsOf(server, meetingId);
    for (const s of after.nodes) {
      expect(fresh.has(s.speaker!.id)).toBe(true);
      const best = mostCovering(turns, s.start, s.end);
      if (best) expect(s.speaker!.id).toBe(best);
    }
    expect(after.nodes.some((s) => s.speaker!.label === 'Grace')).toBe(true);
  });

  it('exports VTT that parses back to the segments, SRT/TXT with speakers, JSON with the transcript, and words in stats', async () => {
    const segments = (await transcriptPage(server, meetingId)).nodes;
    const vtt = (await exportAs(server, meetingId, 'VTT')).data!.meeting.export;
    expect(vtt).toContain(`<v ${segments[0].speaker!.label}>`);
    const parsed = parseTranscript('VTT', vtt);
    expect(parsed.map((c) => [c.startSec, c.endSec, c.text])).toEqual(segments.map((s) => [s.start, s.end, s.text]));

    const srt = (await exportAs(server, meetingId, 'SRT')).data!.meeting.export;
    expect(parseTranscript('SRT', srt).map((c) => c.text)).toEqual(segments.map((s) => `${s.speaker!.label}: ${s.text}`));
    const txt = (await exportAs(server, meetingId, 'TXT')).data!.meeting.export;
    expect(txt.trim().split('\n')).toHaveLength(segments.length);
    expect(txt).toContain(`${segments[5].speaker!.label}: The refund policy changed last spring`);

    const json = JSON.parse((await exportAs(server, meetingId, 'JSON')).data!.meeting.export) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['meetingId', 'durationSec', 'speakers', 'turns', 'transcript']);
    expect((json.transcript as Array<{ text: string }>).map((l) => l.text)).toEqual(segments.map((s) => s.text));

    const stats = await server.gql<{
      meeting: { stats: { speakers: Array<{ speaker: { id: string }; words: number; wordsPerMinute: number; talkTimeSeconds: number }> } };
    }>('query($id: ID!) { meeting(id: $id) { stats { speakers { speaker { id } words wordsPerMinute talkTimeSeconds } } } }', { id: meetingId });
    const rows = stats.data!.meeting.stats.speakers;
    const expectedWords = (id: string) => segments.filter((s) => s.speaker!.id === id).reduce((n, s) => n + s.text.split(' ').length, 0);
    for (const row of rows) {
      expect(row.words).toBe(expectedWords(row.speaker.id));
      expect(row.wordsPerMinute).toBeCloseTo(row.words / (row.talkTimeSeconds / 60), 0);
    }
    expect(rows.reduce((n, r) => n + r.words, 0)).toBe(segments.reduce((n, s) => n + s.text.split(' ').length, 0));
    const aggregate = await server.gql<{ stats: { people: Array<{ words: number | null }> } }>(
      'query($ids: [ID!]) { stats(filter: { ids: $ids }) { people { words } } }',
      {
        ids: [meetingId],
      },
    );
    expect(aggregate.data!.stats.people.reduce((n, p) => n + (p.words ?? 0), 0)).toBe(rows.reduce((n, r) => n + r.words, 0));
  });

  it('refuses every bad transcript with a clear error, stores nothing and keeps the previous one', async () => {
    const before = await transcriptPage(server, meetingId);
    const cases: Array<[string, string, RegExp]> = [
      ['VTT', 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nfine\n\n00:00:03.000 -> nonsense\nbroken\n', /line \d+|malformed/i],
      ['VTT', '1\n00:00:01,000 --> 00:00:02,000\nan SRT file\n', /Line 1 .*WEBVTT/],
      ['WHISPER_JSON', '{"segments": [{"start": 0, "end": 1, "text": "ok"}, {"start": "soon", "end": 2, "text": "x"}]}', /segments\[1\]\.start/],
      ['WHISPER_JSON', '{"segments": [ {"start": 0, ', /not valid JSON/],
      ['WHISPER_JSON', '{"segments": [{"start": -1, "end": 2, "text": "before the start"}]}', /negative/],
      ['VTT', 'WEBVTT\n\n00:00:01.000 --> 00:00:45.000\nafter the end of a 30 s recording\n', /after|beyond|longer|recording/i],
      ['SRT', '   \n', /empty/],
      ['VTT', 'WEBVTT\n\n', /no cues/],
      ['VTT', `WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n${'x'.repeat(MAX_TRANSCRIPT_BYTES)}\n`, /MAX_TRANSCRIPT_MB/],
    ];
    for (const [format, content, message] of cases) {
      const res = await attach(server, meetingId, format, content);
      expect(res.errors).toHaveLength(1);
      expect(res.errors![0].extensions!.code).toBe('INVALID_ARGUMENT');
      expect(res.errors![0].message).toMatch(message);
      expect(res.errors![0].message).not.toMatch(/\/tmp|\/work|at .*\.ts:\d+/);
      expect(await transcriptPage(server, meetingId)).toEqual(before);
    }
    const unknown = await attach(server, 'no-such-meeting', 'VTT', VTT);
    expect(unknown.errors![0].extensions!.code).toBe('NOT_FOUND');

    // Unsorted and overlapping cues are accepted, in time order.
    const unsorted = 'WEBVTT\n\n00:00:05.000 --> 00:00:07.000\nsecond\n\n00:00:01.000 --> 00:00:05.500\nfirst overlaps second\n';
    expect((await attach(server, meetingId, 'VTT', unsorted)).errors).toBeUndefined();
    expect((await transcriptPage(server, meetingId)).nodes.map((s) => s.text)).toEqual(['first overlaps second', 'second']);
    // Back to the full transcript for the other tests.
    expect((await attach(server, meetingId, 'VTT', VTT)).errors).toBeUndefined();
  });

  it('takes an optional transcript file beside the recording in POST /uploads (either part order), and refuses a bad one leaving nothing', async () => {
    const post = async (parts: Array<[string, Blob, string]>) => {
      const form = new FormData();
      for (const [name, blob, fileName] of parts) form.append(name, blob, fileName);
      const res = await fetch(`${server.url}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${server.adminToken}` }, body: form });
      return { status: res.status, body: (await res.json()) as { id?: string; transcriptFormat?: string; error?: { code: string; message: string } } };
    };
    const audio = new Blob([readFileSync(SAMPLE)]);
    const srt = CUES.map((c, i) => `${i + 1}\n${vttTimestamp(c.start).replace('.', ',')} --> ${vttTimestamp(c.end).replace('.', ',')}\n${c.text}\n`).join('\n');
    const uploaded = await post([
      ['transcript', new Blob([srt]), 'call.srt'],
      ['file', audio, 'call.wav'],
    ]);
    expect(uploaded).toMatchObject({ status: 201, body: { transcriptFormat: 'SRT' } });
    const made = await server.gql<{ createMeeting: { id: string; latestJob: { id: string } } }>(
      'mutation($u: ID!) { createMeeting(input: { uploadId: $u, title: "Uploaded with transcript" }) { id latestJob { id } } }',
      { u: uploaded.body.id },
    );
    const id = made.data!.createMeeting.id;
    expect(await finished(server, made.data!.createMeeting.latestJob.id)).toBe('SUCCEEDED');
    const lines = await transcriptPage(server, id);
    expect(lines.nodes.map((s) => s.text)).toEqual(CUES.map((c) => c.text));
    expect(lines.nodes.every((s) => s.speaker !== null)).toBe(true);

    const uploadsDir = path.join(server.dataDir, 'uploads');
    const folders = () => readdirSync(uploadsDir).sort();
    const before = folders();
    const bad = await post([
      ['file', audio, 'call.wav'],
      ['transcript', new Blob(['WEBVTT\n\n00:00:01.000 --> 00:01:40.000\nlonger than the recording\n']), 'call.vtt'],
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body.error!.code).toBe('INVALID_TRANSCRIPT');
    expect(bad.body.error!.message).toMatch(/call\.vtt.*cue 1.*recording/);
    const huge = await post([
      ['file', audio, 'call.wav'],
      ['transcript', new Blob(['x'.repeat(MAX_TRANSCRIPT_BYTES + 10)]), 'call.vtt'],
    ]);
    expect(huge.status).toBe(413);
    expect(huge.body.error!.message).toMatch(/MAX_TRANSCRIPT_MB/);
    const unknownFormat = await post([
      ['file', audio, 'call.wav'],
      ['transcript', new Blob(['just some words']), 'notes.txt'],
    ]);
    expect(unknownFormat.body.error!.code).toBe('INVALID_TRANSCRIPT');
    expect(folders()).toEqual(before);
  });

  it('deletes the transcript (NO_TRANSCRIPT on export after), and deleteMeeting takes it and its search entries along', async () => {
    const upload = await uploadFile(server, SAMPLE);
    const made = await server.gql<{ createMeeting: { id: string; latestJob: { id: string } } }>(
      'mutation($u: ID!) { createMeeting(input: { uploadId: $u, title: "Throwaway" }) { id latestJob { id } } }',
      { u: upload.body.id },
    );
    const id = made.data!.createMeeting.id;
    expect(await finished(server, made.data!.createMeeting.latestJob.id)).toBe('SUCCEEDED');
    const words = 'WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nquarterly zebra budget\n';
    expect((await attach(server, id, 'VTT', words)).errors).toBeUndefined();
    expect((await search(server, 'zebra')).map((h) => h.meeting.id)).toEqual([id]);

    const removed = await server.gql<{ deleteTranscript: boolean }>('mutation($m: ID!) { deleteTranscript(meetingId: $m) }', { m: id });
    expect(removed.data!.deleteTranscript).toBe(true);
    expect((await transcriptPage(server, id)).totalCount).toBe(0);
    expect(await search(server, 'zebra')).toEqual([]);
    const none = await exportAs(server, id, 'VTT');
    expect(none.errors![0].extensions!.code).toBe('NO_TRANSCRIPT');
    expect(Object.keys(JSON.parse((await exportAs(server, id, 'JSON')).data!.meeting.export))).toEqual(['meetingId', 'durationSec', 'speakers', 'turns']);

    expect((await attach(server, id, 'VTT', words)).errors).toBeUndefined();
    expect((await server.gql('mutation($id: ID!) { deleteMeeting(id: $id) }', { id })).errors).toBeUndefined();
    expect(await search(server, 'zebra')).toEqual([]);
    // The other meeting's transcript is untouched.
    expect((await transcriptPage(server, meetingId)).totalCount).toBe(14);
  });
});
