/**
 * Manual speaker edits, job control, imports, pagination and token revocation over GraphQL against
 * a real server, on SQLite and on PostgreSQL.
 */
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';

import { Engine } from '../server/src/diarization/engine';
import { signWebhook } from '../server/src/jobs/webhooks';
import { tempDir } from './helpers/media';
import { startTestServer, TestServer, uploadFile, waitFor } from './support/platform';

const SAMPLE = path.resolve(__dirname, '../../shared/data/dev/diarization/pyannote_sample.wav');

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.create({ threads: 2 });
});
afterAll(async () => {
  await engine.release();
});

interface Speaker {
  id: string;
  label: string;
  talkTimeSeconds: number;
  person: { name: string } | null;
}
interface Turn {
  id: string;
  start: number;
  end: number;
  speaker: { id: string };
}
interface View {
  status: string;
  speakers: Speaker[];
  turns: { totalCount: number; nodes: Turn[] };
}

const VIEW = 'status speakers { id label talkTimeSeconds person { name } } turns { totalCount nodes { id start end speaker { id } } }';

async function view(server: TestServer, id: string): Promise<View> {
  const res = await server.gql<{ meeting: View }>(`query($id: ID!) { meeting(id: $id) { ${VIEW} } }`, { id });
  expect(res.errors).toBeUndefined();
  return res.data!.meeting;
}

async function finished(server: TestServer, jobId: string): Promise<string> {
  return waitFor(`job ${jobId}`, async () => {
    const state = (await server.gql<{ job: { state: string } }>('query($id: ID!) { job(id: $id) { state } }', { id: jobId })).data!.job.state;
    return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(state) ? state : undefined;
  });
}

async function newMeeting(server: TestServer, title: string, tags: string[] = []): Promise<{ id: string; jobId: string }> {
  const upload = await uploadFile(server, SAMPLE);
  const res = await server.gql<{ createMeeting: { id: string; latestJob: { id: string } } }>(
    'mutation($input: CreateMeetingInput!) { createMeeting(input: $input) { id latestJob { id } } }',
    { input: { uploadId: upload.body.id, title, tags } },
  );
  expect(res.errors).toBeUndefined();
  return { id: res.data!.createMeeting.id, jobId: res.data!.createMeeting.latestJob.id };
}

const talkSum = (v: View) => v.speakers.reduce((s, x) => s + x.talkTimeSeconds, 0);
const turnsOf = (v: View, speakerId: string) => v.turns.nodes.filter((t) => t.speaker.id === speakerId);

describe.each(['sqlite', 'postgres'] as const)('speaker edits and job control on %s', (backend) => {
  let server: TestServer;
  const imports = tempDir('imports');

  beforeAll(async () => {
    mkdirSync(path.join(imports.dir, 'calls'));
    copyFileSync(SAMPLE, path.join(imports.dir, 'calls', 'call-1.wav'));
    symlinkSync('/etc/hostname', path.join(imports.dir, 'escape.wav'));
    server = await startTestServer({ backend, engine, config: { importDir: imports.dir, webhookAllowPrivate: true } });
  });
  afterAll(async () => {
    await server.stop();
    imports.cleanup();
  });

  it('splits, moves and merges speakers, keeping talk time and turns consistent', async () => {
    const { id, jobId } = await newMeeting(server, 'Edits');
    expect(await finished(server, jobId)).toBe('SUCCEEDED');
    const before = await view(server, id);
    expect(before.speakers).toHaveLength(2);
    const [a, b] = before.speakers;

    // Split: a's speech inside [10, 20) goes to a new speaker; total talk time is unchanged.
    const split = await server.gql('mutation($s: ID!) { splitSpeaker(speakerId: $s, from: 10, to: 20) { id } }', { s: a.id });
    expect(split.errors).toBeUndefined();
    const afterSplit = await view(server, id);
    expect(afterSplit.speakers).toHaveLength(3);
    expect(talkSum(afterSplit)).toBeCloseTo(talkSum(before), 2);
    const added = afterSplit.speakers.find((s) => s.id !== a.id && s.id !== b.id)!;
    expect(added.label).toBe('Speaker 3');
    for (const t of turnsOf(afterSplit, added.id)) {
      expect(t.start).toBeGreaterThanOrEqual(10);
      expect(t.end).toBeLessThanOrEqual(20);
    }
    for (const t of turnsOf(afterSplit, a.id)) expect(t.end <= 10 || t.start >= 20).toBe(true);

    // Move: one of b's turns to a; a gains exactly its length.
    const moved = turnsOf(afterSplit, b.id)[0];
    const aBefore = afterSplit.speakers.find((s) => s.id === a.id)!.talkTimeSeconds;
    expect((await server.gql('mutation($t: ID!, $s: ID!) { moveTurn(turnId: $t, toSpeakerId: $s) { id } }', { t: moved.id, s: a.id })).errors).toBeUndefined();
    const afterMove = await view(server, id);
    expect(afterMove.speakers.find((s) => s.id === a.id)!.talkTimeSeconds).toBeCloseTo(aBefore + (moved.end - moved.start), 2);
    expect(afterMove.turns.nodes.find((t) => t.id === moved.id)!.speaker.id).toBe(a.id);

    // Merge the split-off speaker back: two speakers again, a's turns never overlap each other.
    const merged = await server.gql<{ mergeSpeakers: { speakerCount: number } }>(
      'mutation($m: ID!, $k: ID!, $g: ID!) { mergeSpeakers(meetingId: $m, keepSpeakerId: $k, mergeSpeakerId: $g) { speakerCount } }',
      { m: id, k: a.id, g: added.id },
    );
    expect(merged.data!.mergeSpeakers.speakerCount).toBe(2);
    const afterMerge = await view(server, id);
    const own = turnsOf(afterMerge, a.id).sort((x, y) => x.start - y.start);
    for (let i = 1; i < own.length; i++) expect(own[i].start).toBeGreaterThan(own[i - 1].end);

    // Refused edits say why and change nothing.
    const self = await server.gql('mutation($m: ID!, $k: ID!) { mergeSpeakers(meetingId: $m, keepSpeakerId: $k, mergeSpeakerId: $k) { id } }', {
      m: id,
      k: a.id,
    });
    expect(self.errors![0]).toMatchObject({ extensions: { code: 'INVALID_ARGUMENT' } });
    const badRange = await server.gql('mutation($s: ID!) { splitSpeaker(speakerId: $s, from: 5, to: 2) { id } }', { s: a.id });
    expect(badRange.errors![0].message).toMatch(/0 <= from < to/);
    expect((await view(server, id)).turns.totalCount).toBe(afterMerge.turns.totalCount);

    // Assign by hand, then unassign; an IDENTIFY run leaves a manual choice alone.
    const person = await server.gql<{ createPerson: { id: string } }>('mutation { createPerson(input: { name: "Manual Pick" }) { id } }');
    await server.gql('mutation($s: ID!, $p: ID) { assignSpeaker(speakerId: $s, personId: $p) { id } }', { s: b.id, p: person.data!.createPerson.id });
    const batch = await server.gql<{ reprocess: { id: string } }>('mutation($ids: [ID!]) { reprocess(input: { meetingIds: $ids, kind: IDENTIFY }) { id } }', {
      ids: [id],
    });
    await waitFor('identify batch', async () => {
      const bt = (
        await server.gql<{ batch: { succeeded: number; failed: number } }>('query($id: ID!) { batch(id: $id) { succeeded failed } }', {
          id: batch.data!.reprocess.id,
        })
      ).data!.batch;
      return bt.succeeded + bt.failed === 1 ? bt : undefined;
    });
    expect((await view(server, id)).speakers.find((s) => s.id === b.id)!.person).toEqual({ name: 'Manual Pick' });
    await server.gql('mutation($s: ID!) { assignSpeaker(speakerId: $s, personId: null) { id } }', { s: b.id });
    expect((await view(server, id)).speakers.find((s) => s.id === b.id)!.person).toBeNull();
  });

  it('cancels and retries jobs, imports from IMPORT_DIR only, pages meetings and revokes tokens', async () => {
    // Cancel right away (queued or running), then retry: a new job that succeeds.
    const { id, jobId } = await newMeeting(server, 'Cancelled', ['ops']);
    const cancelled = await server.gql<{ cancelJob: { id: string } }>('mutation($id: ID!) { cancelJob(id: $id) { id } }', { id: jobId });
    expect(cancelled.errors).toBeUndefined();
    expect(await finished(server, jobId)).toBe('CANCELLED');
    expect((await view(server, id)).status).toBe('CANCELLED');
    const again = await server.gql('mutation($id: ID!) { cancelJob(id: $id) { id } }', { id: jobId });
    expect(again.errors![0].message).toMatch(/only QUEUED or RUNNING/);
    const retried = await server.gql<{ retryJob: { id: string } }>('mutation($id: ID!) { retryJob(id: $id) { id } }', { id: jobId });
    expect(retried.data!.retryJob.id).not.toBe(jobId);
    expect(await finished(server, retried.data!.retryJob.id)).toBe('SUCCEEDED');
    expect((await view(server, id)).status).toBe('SUCCEEDED');

    // Imports: inside IMPORT_DIR works; escapes are refused before anything is copied.
    const escape = await server.gql('mutation { importMeetings(inputs: [{ path: "calls/call-1.wav" }, { path: "escape.wav" }]) { id } }');
    expect(escape.errors![0].extensions!.code).toBe('FORBIDDEN_PATH');
    const countBefore = (await server.gql<{ meetings: { totalCount: number } }>('{ meetings { totalCount } }')).data!.meetings.totalCount;
    const imported = await server.gql<{ importMeetings: Array<{ id: string; title: string }> }>(
      'mutation { importMeetings(inputs: [{ path: "calls/call-1.wav", tags: ["imported"] }]) { id title } }',
    );
    expect(imported.errors).toBeUndefined();
    expect(imported.data!.importMeetings[0].title).toBe('call-1.wav');
    expect((await server.gql<{ meetings: { totalCount: number } }>('{ meetings { totalCount } }')).data!.meetings.totalCount).toBe(countBefore + 1);

    // Pagination: pages of one, in title order, cover every meeting exactly once.
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const res: { data?: { meetings: { nodes: Array<{ title: string }>; pageInfo: { endCursor: string; hasNextPage: boolean } } } } = await server.gql(
        'query($after: String) { meetings(first: 1, after: $after, orderBy: { field: TITLE, direction: ASC }) { nodes { title } pageInfo { endCursor hasNextPage } } }',
        { after },
      );
      seen.push(...res.data!.meetings.nodes.map((n) => n.title));
      if (!res.data!.meetings.pageInfo.hasNextPage) break;
      after = res.data!.meetings.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(countBefore + 1);
    expect([...seen].sort((x, y) => x.toLowerCase().localeCompare(y.toLowerCase()))).toEqual(seen);
    const tagged = await server.gql<{ meetings: { totalCount: number } }>('{ meetings(filter: { tag: "ops", text: "cancel" }) { totalCount } }');
    expect(tagged.data!.meetings.totalCount).toBe(1);

    // A revoked token stops working at once.
    const made = await server.gql<{ createToken: { secret: string; token: { id: string } } }>(
      'mutation { createToken(name: "temp", scope: READ) { secret token { id } } }',
    );
    const secret = made.data!.createToken.secret;
    expect((await server.gql('{ viewer { scope } }', undefined, secret)).errors).toBeUndefined();
    await server.gql('mutation($id: ID!) { revokeToken(id: $id) { revokedAt } }', { id: made.data!.createToken.token.id });
    expect((await server.gql('{ viewer { scope } }', undefined, secret)).errors![0].extensions!.code).toBe('UNAUTHENTICATED');
  });

  it('posts a signed webhook to tokens that asked for one when a job ends', async () => {
    const received: Array<{ body: string; signature: string; event: string }> = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ body, signature: String(req.headers['x-diarization-signature']), event: String(req.headers['x-diarization-event']) });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const port = (receiver.address() as { port: number }).port;
    try {
      const made = await server.gql<{ createToken: { webhookSecret: string } }>(
        'mutation($u: String) { createToken(name: "crm", scope: READ, webhookUrl: $u) { webhookSecret } }',
        { u: `http://127.0.0.1:${port}/hook` },
      );
      const webhookSecret = made.data!.createToken.webhookSecret;
      expect(webhookSecret).toMatch(/^whsec_/);
      const { jobId } = await newMeeting(server, 'Hooked');
      expect(await finished(server, jobId)).toBe('SUCCEEDED');
      const hit = await waitFor('the webhook', async () => received.find((r) => r.body.includes(jobId)), 10_000);
      expect(hit.event).toBe('job.finished');
      expect(hit.signature).toBe(signWebhook(webhookSecret, hit.body));
      expect(JSON.parse(hit.body).job).toMatchObject({ id: jobId, state: 'SUCCEEDED' });
      const bad = await server.gql('mutation { createToken(name: "x", scope: READ, webhookUrl: "ftp://nope") { secret } }');
      expect(bad.errors![0].message).toMatch(/http\(s\) URL/);
    } finally {
      receiver.close();
    }
  });
});
