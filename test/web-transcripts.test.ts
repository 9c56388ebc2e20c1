// Browser test of the transcript panel and the transcript search in real Chromium, on the built web
// app: a dev recording uploaded with a WebVTT transcript and diarized; the panel shows every line
// with its speaker, a click on a line plays from it, the highlighted line follows playback and stays
// in view, and a search result opens the meeting at the matching line (?t=). On a meeting written
// through the store without a transcript (no diarization): a transcript attached from the panel,
// replaced, refused (malformed, too large, a read-only token) and deleted. Screenshots go to
// test/artifacts/.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { ARTIFACTS, ROOT, startStack, type Stack, graphqlAt } from './support/browser';
import { seedMeetings, seededTurns, type SeededMeeting, type SeedSpec } from './support/browser-seed';
import { webVtt } from './support/webvtt';

const RECORDING = path.resolve(ROOT, '../shared/data/dev/diarization/pyannote_sample.wav');
const ADMIN_TOKEN = 'web-transcripts-admin-token-0123456789';
const PROCESSING_MS = 8 * 60_000;
/** The API's MAX_TRANSCRIPT_MB for this file's server (and the web proxy's default limit follows it). */
const MAX_TRANSCRIPT_MB = 0.5;
/** A finished meeting with no transcript: 20 turns of 3 s steps, even ones SPEAKER_00's, odd ones SPEAKER_01's. */
const BARE: SeedSpec = { title: 'Seeded call without a transcript', tags: ['seeded'], durationSec: 60, speakers: 2, turns: 20 };

/** 14 lines of 2 s; line 6 (at 11 s) speaks about the refund policy. */
const CUES = Array.from({ length: 14 }, (_, i) => ({
  start: 1 + i * 2,
  end: 3 + i * 2,
  text: i === 5 ? 'The refund policy changed last spring' : `Line ${i + 1} of the weekly call`,
}));
const VTT = webVtt(CUES);

let stack: Stack | undefined;
let apiPort: number;
let webUrl: string;
let page: Page;
let meetingId: string;
let bare: SeededMeeting;

const api = <T>(query: string, variables: Record<string, unknown> = {}) => graphqlAt<T>(apiPort, ADMIN_TOKEN, query, variables);

const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
const clock = async () => Number(await page.getByTestId('clock').getAttribute('data-time'));
const activeStart = async () => Number(await page.locator('.transcript-line.active').getAttribute('data-start'));

beforeAll(async () => {
  process.env.MAX_TRANSCRIPT_MB = String(MAX_TRANSCRIPT_MB);
  try {
    stack = await startStack({
      prefix: 'web-transcripts',
      adminToken: ADMIN_TOKEN,
      beforeWeb: async (server) => {
        // The speakers must carry the server's model identity (as in web-seeded.test.ts).
        const { model } = (await (
          await fetch(`http://127.0.0.1:${server.apiPort}/healthz`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
        ).json()) as {
          model: { name: string; hash: string; dim: number };
        };
        [bare] = await seedMeetings({ dataDir: server.dataDir, model, specs: [BARE] });
      },
    });
  } finally {
    delete process.env.MAX_TRANSCRIPT_MB;
  }
  ({ apiPort, webUrl } = stack);
  const context = await stack.browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(`localStorage.setItem('diarization.token', ${JSON.stringify(ADMIN_TOKEN)})`);
  page = await context.newPage();
}, 20 * 60_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

describe('a diarized meeting uploaded with its transcript', () => {
  beforeAll(async () => {
    // The recording and its transcript in one POST /uploads, as the upload form sends them.
    const form = new FormData();
    form.append('transcript', new Blob([VTT]), 'call.vtt');
    form.append('file', new Blob([readFileSync(RECORDING)]), 'call.wav');
    const uploaded = await fetch(`http://127.0.0.1:${apiPort}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, body: form });
    const { id: uploadId, transcriptFormat } = (await uploaded.json()) as { id: string; transcriptFormat: string };
    expect(transcriptFormat).toBe('VTT');
    const made = await api<{ createMeeting: { id: string } }>('mutation($u: ID!) { createMeeting(input: { uploadId: $u, title: "Refund call" }) { id } }', {
      u: uploadId,
    });
    meetingId = made.createMeeting.id;
    const deadline = Date.now() + PROCESSING_MS;
    for (;;) {
      const { meeting } = await api<{ meeting: { status: string } }>('query($id: ID!) { meeting(id: $id) { status } }', { id: meetingId });
      if (meeting.status === 'SUCCEEDED') break;
      if (meeting.status === 'FAILED' || Date.now() > deadline) throw new Error(`diarization ended ${meeting.status}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }, PROCESSING_MS + 60_000);

  test('the transcript panel shows every line with its speaker, plays from a clicked line and follows playback', async () => {
    await page.goto(`${webUrl}/meetings/${encodeURIComponent(meetingId)}`);
    const lines = page.getByTestId('transcript-lines').locator('li');
    await lines.first().waitFor();
    expect(await lines.count()).toBe(CUES.length);
    const { meeting } = await api<{ meeting: { transcript: { nodes: { text: string; speaker: { label: string } }[] } } }>(
      'query($id: ID!) { meeting(id: $id) { transcript { nodes { text speaker { label } } } } }',
      { id: meetingId },
    );
    for (const [i, node] of meeting.transcript.nodes.entries()) {
      await expect(lines.nth(i).locator('.transcript-speaker').textContent()).resolves.toContain(node.speaker.label);
      await expect(lines.nth(i).locator('.transcript-text').textContent()).resolves.toBe(node.text);
    }

    // Click line 4 (5 s): the audio plays from there and that line is the highlighted one.
    await lines.nth(2).getByRole('button').click();
    await page.waitForFunction(`Number(document.querySelector('[data-testid=clock]').dataset.time) >= 5.2`);
    expect(await clock()).toBeLessThan(9);
    const first = await activeStart();
    expect(first).toBeGreaterThanOrEqual(5);
    // Playback runs on into the next line: the highlight moves with it.
    await page.waitForFunction(`Number(document.querySelector('.transcript-line.active')?.dataset.start) >= 7`, undefined, { timeout: 15_000 });
    expect(await activeStart()).toBeGreaterThan(first);
    // The highlighted line is inside the panel's visible area.
    const box = (await page.getByTestId('transcript-lines').boundingBox())!;
    const row = (await page.locator('.transcript-line.active').boundingBox())!;
    expect(row.y).toBeGreaterThanOrEqual(box.y - 1);
    expect(row.y + row.height).toBeLessThanOrEqual(box.y + box.height + 1);
    await shot('transcript-panel-playing');
    await page.getByRole('button', { name: 'Pause' }).click();
  });

  test('a search result opens the meeting at the matching line', async () => {
    await page.goto(`${webUrl}/search`);
    await page.getByLabel('Words to find').fill('"refund policy"');
    await page.getByRole('button', { name: 'Search' }).click();
    const hit = page.getByTestId('search-hit');
    await hit.first().waitFor();
    expect(await hit.count()).toBe(1);
    await expect(page.getByTestId('search-hits').locator('mark').first().textContent()).resolves.toMatch(/refund/);
    await shot('transcript-search');
    await hit.first().click();
    await page.waitForURL(/\/meetings\/.+\?t=11$/);
    await page.getByTestId('transcript-lines').locator('li').first().waitFor();
    await page.waitForFunction(`Number(document.querySelector('[data-testid=clock]').dataset.time) === 11`);
    expect(await activeStart()).toBe(11);
    await page.waitForFunction(`document.querySelector('audio').currentTime >= 10.9`);
  });

  test('the upload form sends an optional transcript with the recording; the new meeting shows it', async () => {
    await page.goto(`${webUrl}/`);
    await page.setInputFiles('#file-input', RECORDING);
    const item = page.getByTestId('upload-item');
    await item.getByLabel('Title', { exact: true }).fill('Uploaded with its transcript');
    await item.getByLabel(/^Transcript/).setInputFiles({ name: 'call.vtt', mimeType: 'text/vtt', buffer: Buffer.from(VTT) });
    await item.getByRole('button', { name: 'Upload', exact: true }).click();
    await item.getByRole('link', { name: 'Open timeline' }).waitFor({ timeout: PROCESSING_MS });
    await item.getByRole('link', { name: 'Open timeline' }).click();
    const lines = page.getByTestId('transcript-lines').locator('li');
    await lines.first().waitFor();
    expect(await lines.count()).toBe(CUES.length);
    await expect(lines.nth(5).locator('.transcript-text').textContent()).resolves.toBe('The refund policy changed last spring');
  });
});

describe('attaching, replacing and deleting a transcript from the meeting page', () => {
  const turns = seededTurns(BARE);
  /** Shown name of each store speaker id (no person assigned: its label). */
  let labels: Map<string, string>;
  const speakerName = (turn: number) => labels.get(bare.speakerIds[turns[turn].speaker]);
  /** One cue inside each of turns 0–3 (no overlaps there), so each line's speaker is known. */
  const VTT_TURNS = [0, 1, 2, 3];
  const attachedVtt = webVtt(VTT_TURNS.map((k, i) => ({ start: turns[k].start + 0.1, end: turns[k].end - 0.1, text: `Attached line ${i + 1}` })));
  const SRT_TURNS = [6, 7, 8];
  const srtTime = (sec: number) => new Date(Math.round(sec * 1000)).toISOString().slice(11, 23).replace('.', ',');
  const replacementSrt = SRT_TURNS.map(
    (k, i) => `${i + 1}\n${srtTime(turns[k].start + 0.1)} --> ${srtTime(turns[k].end - 0.1)}\nReplacement line ${i + 1}\n`,
  ).join('\n');
  // Line 6 is a broken cue timing (a letter in the end time).
  const malformedVtt = 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nFine\n\n00:00:04.000 --> 00:00:0x.500\nBroken\n';

  const lines = () => page.getByTestId('transcript-lines').locator('li');
  const lineTexts = () => page.getByTestId('transcript-lines').locator('.transcript-text').allTextContents();
  const serverLines = async () =>
    (
      await api<{ meeting: { transcript: { totalCount: number; nodes: { text: string; speaker: { label: string } | null }[] } } }>(
        'query($id: ID!) { meeting(id: $id) { transcript { totalCount nodes { text speaker { label } } } } }',
        { id: bare.meetingId },
      )
    ).meeting.transcript;
  const file = (name: string, text: string) => ({ name, mimeType: 'text/plain', buffer: Buffer.from(text) });
  /** Replace, through the button's own file chooser. */
  const replaceWith = async (name: string, text: string) => {
    const chooser = page.waitForEvent('filechooser');
    await page.getByTestId('transcript-panel').getByRole('button', { name: 'Replace' }).click();
    await (await chooser).setFiles(file(name, text));
  };

  beforeAll(async () => {
    const { meeting } = await api<{ meeting: { speakers: { id: string; label: string }[] } }>(
      'query($id: ID!) { meeting(id: $id) { speakers { id label } } }',
      {
        id: bare.meetingId,
      },
    );
    labels = new Map(meeting.speakers.map((s) => [s.id, s.label]));
    expect(labels.size).toBe(BARE.speakers);
    await page.goto(`${webUrl}/meetings/${encodeURIComponent(bare.meetingId)}`);
    await page.getByTestId('transcript-empty').waitFor();
  });

  test('a VTT attached from the panel shows its lines with the speakers whose turns they fall in', async () => {
    expect(await page.getByTestId('transcript-lines').count()).toBe(0);
    await page.getByLabel('Attach transcript: .vtt, .srt, Whisper .json').setInputFiles(file('notes.vtt', attachedVtt));
    await lines()
      .nth(VTT_TURNS.length - 1)
      .waitFor();
    expect(await lines().count()).toBe(VTT_TURNS.length);
    expect(await lineTexts()).toEqual(VTT_TURNS.map((_, i) => `Attached line ${i + 1}`));
    const speakers = await page.getByTestId('transcript-lines').locator('.transcript-speaker').allTextContents();
    expect(speakers).toEqual(VTT_TURNS.map(speakerName));
    expect((await serverLines()).nodes.map((n) => n.speaker?.label)).toEqual(VTT_TURNS.map(speakerName));
    await expect(page.getByTestId('transcript-message').textContent()).resolves.toMatch(/attached from notes\.vtt \(VTT, 4 cues\)/);
    // The transcript exports appear once there is a transcript.
    await page.getByRole('button', { name: 'VTT', exact: true }).waitFor();
    await shot('transcript-attached');
  });

  test('Replace with an SRT shows the new lines', async () => {
    await replaceWith('replacement.srt', replacementSrt);
    await page.getByTestId('transcript-message').filter({ hasText: 'replaced by replacement.srt (SRT, 3 cues)' }).waitFor();
    await page.waitForFunction(`document.querySelectorAll('[data-testid=transcript-lines] li').length === ${SRT_TURNS.length}`);
    expect(await lineTexts()).toEqual(SRT_TURNS.map((_, i) => `Replacement line ${i + 1}`));
    const speakers = await page.getByTestId('transcript-lines').locator('.transcript-speaker').allTextContents();
    expect(speakers).toEqual(SRT_TURNS.map(speakerName));
  });

  test('a malformed file is refused with the line it breaks on, and the previous transcript stays', async () => {
    await replaceWith('broken.vtt', malformedVtt);
    const error = page.getByTestId('transcript-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/^broken\.vtt was not attached: The VTT transcript is malformed on line 6: "00:00:04\.000 --> 00:00:0x\.500"/);
    expect(await lineTexts()).toEqual(SRT_TURNS.map((_, i) => `Replacement line ${i + 1}`));
    expect((await serverLines()).nodes.map((n) => n.text)).toEqual(SRT_TURNS.map((_, i) => `Replacement line ${i + 1}`));
    await shot('transcript-malformed');
  });

  test('a file over MAX_TRANSCRIPT_MB is refused with the server’s limit, and the previous transcript stays', async () => {
    // Valid cues, 1 MB of them: only the size is wrong.
    const big = webVtt(Array.from({ length: 9000 }, (_, i) => ({ start: (i * 50) / 9000, end: ((i + 1) * 50) / 9000, text: `word `.repeat(20) })));
    expect(Buffer.byteLength(big)).toBeGreaterThan(MAX_TRANSCRIPT_MB * 1024 * 1024);
    await replaceWith('huge.vtt', big);
    await page.getByTestId('transcript-error').filter({ hasText: 'huge.vtt was not attached' }).waitFor();
    expect(await page.getByTestId('transcript-error').textContent()).toMatch(/over the 0\.5 MB limit \(MAX_TRANSCRIPT_MB\)/);
    expect(await lineTexts()).toEqual(SRT_TURNS.map((_, i) => `Replacement line ${i + 1}`));
  });

  test('a file whose format cannot be told is refused before it is sent', async () => {
    await replaceWith('notes.txt', 'just some words\n');
    await page.getByTestId('transcript-error').filter({ hasText: 'notes.txt was not attached: Cannot tell the transcript format of "notes.txt"' }).waitFor();
    expect((await serverLines()).totalCount).toBe(SRT_TURNS.length);
  });

  test('a token that turned read-only (signed in elsewhere) gets the server’s permission error', async () => {
    const { createToken } = await api<{ createToken: { secret: string } }>('mutation { createToken(name: "transcript-reader", scope: READ) { secret } }');
    // The page still shows the admin controls; the next request carries the read-only token.
    await page.evaluate(`localStorage.setItem('diarization.token', ${JSON.stringify(createToken.secret)})`);
    try {
      await replaceWith('replacement.srt', replacementSrt.replace('Replacement line 1', 'Not allowed'));
      await page.getByTestId('transcript-error').filter({ hasText: 'needs a token with the "admin" scope' }).waitFor();
      expect(await page.getByTestId('transcript-error').textContent()).toMatch(/this needs an admin token/);
      expect(await lineTexts()).toEqual(SRT_TURNS.map((_, i) => `Replacement line ${i + 1}`));
      // Opened with that token, the page offers no transcript controls at all.
      const reader = await stack!.browser.newContext({ viewport: { width: 1280, height: 800 } });
      await reader.addInitScript(`localStorage.setItem('diarization.token', ${JSON.stringify(createToken.secret)})`);
      const readerPage = await reader.newPage();
      await readerPage.goto(`${webUrl}/meetings/${encodeURIComponent(bare.meetingId)}`);
      await readerPage.getByTestId('transcript-lines').waitFor();
      expect(
        await readerPage
          .getByTestId('transcript-panel')
          .getByRole('button')
          .filter({ hasText: /^(Replace|Delete)$/ })
          .count(),
      ).toBe(0);
      expect(await readerPage.getByTestId('transcript-panel').locator('input[type=file]').count()).toBe(0);
      await reader.close();
    } finally {
      await page.evaluate(`localStorage.setItem('diarization.token', ${JSON.stringify(ADMIN_TOKEN)})`);
      await page.reload();
    }
  });

  test('Delete asks first; confirmed, the panel shows its empty state again', async () => {
    await page.getByTestId('transcript-lines').waitFor();
    const panel = page.getByTestId('transcript-panel');
    page.once('dialog', (dialog) => void dialog.dismiss());
    await panel.getByRole('button', { name: 'Delete' }).click();
    expect(await lines().count()).toBe(SRT_TURNS.length);
    expect((await serverLines()).totalCount).toBe(SRT_TURNS.length);

    let asked = '';
    page.once('dialog', (dialog) => {
      asked = dialog.message();
      void dialog.accept();
    });
    await panel.getByRole('button', { name: 'Delete' }).click();
    await page.getByTestId('transcript-empty').waitFor();
    expect(asked).toMatch(/Delete the transcript of this meeting\?/);
    expect(await page.getByTestId('transcript-lines').count()).toBe(0);
    await expect(page.getByTestId('transcript-message').textContent()).resolves.toBe('Transcript deleted.');
    await page.getByLabel('Attach transcript: .vtt, .srt, Whisper .json').waitFor();
    expect((await serverLines()).totalCount).toBe(0);
    await shot('transcript-deleted');
  });
});
