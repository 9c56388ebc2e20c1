// Browser test of the transcript panel and the transcript search in real Chromium, on the built web
// app: a dev recording uploaded with a WebVTT transcript and diarized; the panel shows every line
// with its speaker, a click on a line plays from it, the highlighted line follows playback and stays
// in view, and a search result opens the meeting at the matching line (?t=). Screenshots go to
// test/artifacts/.
import path from 'node:path';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { ARTIFACTS, ROOT, startStack, type Stack, graphqlAt } from './support/browser';
import { webVtt } from './support/webvtt';

const RECORDING = path.resolve(ROOT, '../shared/data/dev/diarization/pyannote_sample.wav');
const ADMIN_TOKEN = 'web-transcripts-admin-token-0123456789';
const PROCESSING_MS = 8 * 60_000;

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

const api = <T>(query: string, variables: Record<string, unknown> = {}) => graphqlAt<T>(apiPort, ADMIN_TOKEN, query, variables);

const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
const clock = async () => Number(await page.getByTestId('clock').getAttribute('data-time'));
const activeStart = async () => Number(await page.locator('.transcript-line.active').getAttribute('data-start'));

beforeAll(
  async () => {
    stack = await startStack({ prefix: 'web-transcripts', adminToken: ADMIN_TOKEN });
    ({ apiPort, webUrl } = stack);
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
    const context = await stack.browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(`localStorage.setItem('diarization.token', ${JSON.stringify(ADMIN_TOKEN)})`);
    page = await context.newPage();
  },
  PROCESSING_MS + 20 * 60_000,
);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

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
