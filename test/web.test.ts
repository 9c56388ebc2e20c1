// Browser walk-through in real Chromium: the GraphQL server and the built web app run on 127.0.0.1
// with free ports and a temporary DATA_DIR. A person uploads a dev recording, watches its progress,
// opens the timeline, plays a turn, renames a speaker, enrolls a person, reprocesses, and sees that
// person named on the timeline. Screenshots of each main page go to test/artifacts/.
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, ROOT, startStack, type Stack, graphqlAt } from './support/browser';

const RECORDING = path.resolve(ROOT, '../shared/data/dev/diarization/pyannote_sample.wav');
const ADMIN_TOKEN = 'web-test-admin-token-0123456789';
const PROCESSING_MS = 8 * 60_000;

let stack: Stack | undefined;
let apiPort: number;
let webUrl: string;
let context: BrowserContext;
let page: Page;
let meetingId: string;
const wsFrames: string[] = [];
const wsUrls: string[] = [];

interface TimelineMeeting {
  speakers: { id: string; label: string; matchScore: number | null; person: { name: string } | null }[];
  turns: { nodes: { id: string; start: number; end: number; speaker: { id: string } }[] };
}

const api = <T>(query: string, variables: Record<string, unknown> = {}) => graphqlAt<T>(apiPort, ADMIN_TOKEN, query, variables);

async function timelineMeeting(): Promise<TimelineMeeting> {
  const data = await api<{ meeting: TimelineMeeting }>(
    `query($id: ID!) { meeting(id: $id) { speakers { id label matchScore person { name } } turns { nodes { id start end speaker { id } } } } }`,
    { id: meetingId },
  );
  return data.meeting;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Editor of the speaker in row `index` of the speaker panel, opened. */
async function openSpeakerEditor(index: number) {
  const row = page.getByTestId('speaker-row').nth(index);
  const edit = row.getByRole('button', { name: 'Edit' });
  if ((await edit.getAttribute('aria-expanded')) !== 'true') await edit.click();
  return row;
}

beforeAll(async () => {
  stack = await startStack({ prefix: 'web-test', adminToken: ADMIN_TOKEN });
  ({ apiPort, webUrl } = stack);
  context = await stack.browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('websocket', (ws) => {
    wsUrls.push(ws.url());
    ws.on('framereceived', (frame) => {
      if (typeof frame.payload === 'string') wsFrames.push(frame.payload);
    });
  });
}, 20 * 60_000);

afterAll(async () => {
  await stack?.stop();
}, 60_000);

test('the home page asks for a token, then accepts the admin token', async () => {
  await page.goto(webUrl);
  await page.getByRole('textbox', { name: 'API token' }).waitFor();
  await shot('01-token');
  await page.getByRole('textbox', { name: 'API token' }).fill('not-a-token');
  await page.getByRole('button', { name: 'Use token' }).click();
  await page.getByRole('alert').waitFor();
  await page.getByRole('textbox', { name: 'API token' }).fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Use token' }).click();
  await page.getByRole('heading', { name: 'Upload recordings' }).waitFor();
  expect(await page.getByTestId('session-scope').textContent()).toContain('admin');
});

test('upload a dev recording and watch its progress until it is diarized', async () => {
  await page.setInputFiles('#file-input', RECORDING);
  const item = page.getByTestId('upload-item');
  await item.getByLabel('Title', { exact: true }).fill('Dev sample meeting');
  await item.getByLabel('Tags', { exact: true }).fill('dev, browser-test');
  await item.getByRole('button', { name: 'Upload', exact: true }).click();

  // Record every status the page shows until the job ends (states, not sleeps: poll the DOM).
  const seen = new Set<string>();
  const deadline = Date.now() + PROCESSING_MS;
  let phase = '';
  let shotTaken = false;
  while (Date.now() < deadline) {
    phase = (await item.getAttribute('data-phase')) ?? '';
    const status = page.getByTestId('job-status');
    if (await status.count()) seen.add(((await status.textContent()) ?? '').trim());
    if (phase === 'processing' && !shotTaken) {
      await shot('02-upload-progress');
      shotTaken = true;
    }
    if (phase === 'done' || phase === 'failed' || phase === 'cancelled') break;
    await page.waitForTimeout(150);
  }
  const errorText = (await item.getByRole('alert').count()) ? await item.getByRole('alert').textContent() : '';
  expect({ phase, errorText }).toEqual({ phase: 'done', errorText: '' });
  expect([...seen].some((s) => /queued|running/i.test(s))).toBe(true);
  expect([...seen].some((s) => /Diarization finished/.test(s))).toBe(true);
  // Live progress arrived over graphql-ws on the API server's port.
  expect(wsUrls.some((u) => u === `ws://127.0.0.1:${apiPort}/graphql`)).toBe(true);
  expect(wsFrames.some((f) => f.includes('jobProgress'))).toBe(true);
  await shot('03-upload-done');

  const href = await item.getByRole('link', { name: 'Open timeline' }).getAttribute('href');
  meetingId = decodeURIComponent(href!.split('/').pop()!);
  expect(meetingId).toBeTruthy();
});

test('the meetings list shows the meeting with its status, duration and speaker count', async () => {
  await page.getByRole('link', { name: 'Meetings', exact: true }).click();
  const row = page.getByTestId('meeting-row').filter({ hasText: 'Dev sample meeting' });
  await row.waitFor();
  const text = (await row.textContent()) ?? '';
  expect(text).toContain('succeeded');
  expect(text).toMatch(/\d+(\.\d)? s|\d+ min/);
  await shot('04-meetings');
});

test('open the timeline and play a turn by clicking it', async () => {
  await page.getByRole('link', { name: 'Dev sample meeting' }).click();
  const timeline = page.getByTestId('timeline');
  await timeline.waitFor();
  const meeting = await timelineMeeting();
  expect(meeting.speakers.length).toBeGreaterThanOrEqual(2);
  // The longest turn of the first speaker: a wide target.
  const lane = 0;
  const turn = meeting.turns.nodes.filter((t) => t.speaker.id === meeting.speakers[lane].id).sort((a, b) => b.end - b.start - (a.end - a.start))[0];
  const num = async (name: string) => Number(await timeline.getAttribute(`data-${name}`));
  const [viewStart, viewSpan, labelW, plotW, lanesTop, laneH] = await Promise.all(
    ['view-start', 'view-span', 'label-width', 'plot-width', 'lanes-top', 'lane-height'].map(num),
  );
  await page.locator('[data-testid=timeline][data-waveform=loaded]').waitFor();
  await shot('05-timeline');
  const mid = (turn.start + turn.end) / 2;
  await page.getByTestId('timeline-canvas').click({
    position: { x: labelW + ((mid - viewStart) / viewSpan) * plotW, y: lanesTop + lane * laneH + laneH / 2 },
  });
  // Playing from the turn's start: the audio element runs past it, and the clock follows.
  await page.waitForFunction(
    `(() => { const a = document.querySelector('[data-testid=audio]'); return !!a && !a.paused && a.currentTime > ${turn.start + 0.3}; })()`,
    undefined,
    { timeout: 30_000 },
  );
  const time = Number(await page.evaluate(`document.querySelector('[data-testid=audio]').currentTime`));
  expect(time).toBeGreaterThanOrEqual(turn.start);
  expect(time).toBeLessThan(turn.end + 5);
  await page.waitForFunction(`Number(document.querySelector('[data-testid=clock]').dataset.time) >= ${turn.start}`);
  await shot('06-timeline-playing');
  // Space pauses (focus on the page body, not on a button).
  await page.getByRole('heading', { name: 'Dev sample meeting' }).click();
  await page.keyboard.press('Space');
  await page.waitForFunction(`document.querySelector('[data-testid=audio]').paused`);
});

test('rename a speaker', async () => {
  const row = await openSpeakerEditor(0);
  await row.getByLabel('Name', { exact: true }).fill('Alice Host');
  await row.getByRole('button', { name: 'Rename' }).click();
  await page.getByTestId('speaker-name').filter({ hasText: 'Alice Host' }).waitFor();
  const meeting = await timelineMeeting();
  expect(meeting.speakers.map((s) => s.label)).toContain('Alice Host');
  await shot('07-speaker-renamed');
});

test('enroll a person from a speaker of the meeting', async () => {
  const row = await openSpeakerEditor(1);
  await row.getByLabel('Enroll voice as').selectOption('');
  await row.getByLabel('New person’s name').fill('Bob Guest');
  await row.getByRole('button', { name: 'Enroll' }).click();
  await page.getByTestId('action-message').filter({ hasText: 'Enrolled Bob Guest' }).waitFor({ timeout: 60_000 });
  // Leave the speaker anonymous, so that only identification can name it after reprocessing.
  const editor = await openSpeakerEditor(1);
  await editor.getByLabel('Person', { exact: true }).selectOption('');
  await editor.getByRole('button', { name: 'Assign' }).click();
  await page.getByTestId('action-message').filter({ hasText: 'Person removed' }).waitFor();
  expect((await timelineMeeting()).speakers.some((s) => s.person)).toBe(false);
  await page.getByRole('link', { name: 'People', exact: true }).click();
  await page.getByTestId('person-row').filter({ hasText: 'Bob Guest' }).waitFor();
  await shot('08-people');
});

test('reprocess the meeting and see the enrolled person named on the timeline', async () => {
  await page.getByRole('link', { name: 'Reprocess', exact: true }).click();
  await page.getByLabel('Dev sample meeting').check();
  await page.getByLabel(/Full diarization/).check();
  await page.getByRole('button', { name: 'Reprocess 1 selected' }).click();
  const batch = page.getByTestId('batch');
  await batch.waitFor();
  await page.locator('[data-testid=batch][data-done=true]').waitFor({ timeout: PROCESSING_MS });
  expect(await batch.textContent()).toContain('1 succeeded');
  await shot('09-reprocess');

  await page.goto(`${webUrl}/meetings/${encodeURIComponent(meetingId)}`);
  await page.getByTestId('timeline').waitFor();
  await page.getByTestId('speaker-name').filter({ hasText: 'Bob Guest' }).waitFor();
  const meeting = await timelineMeeting();
  const bob = meeting.speakers.find((s) => s.person?.name === 'Bob Guest');
  expect(bob).toBeDefined();
  // Named by identification (a similarity score), not by a carried-over manual assignment.
  expect(bob?.matchScore).toEqual(expect.any(Number));
  await page.locator('[data-testid=timeline][data-waveform=loaded]').waitFor();
  await shot('10-timeline-identified');
});

test('analytics and the phone-width layout render', async () => {
  await page.getByRole('link', { name: 'Analytics', exact: true }).click();
  await page.getByTestId('analytics-summary').waitFor();
  await page.locator('.recharts-surface').first().waitFor();
  expect(await page.locator('.recharts-surface').count()).toBeGreaterThanOrEqual(4);
  await shot('11-analytics');

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${webUrl}/meetings/${encodeURIComponent(meetingId)}`);
  await page.locator('[data-testid=timeline][data-waveform=loaded]').waitFor();
  await shot('12-timeline-phone');
  await page.goto(webUrl);
  await page.getByRole('heading', { name: 'Upload recordings' }).waitFor();
  await shot('13-upload-phone');
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('the same-origin media proxy passes Range requests through', async () => {
  const res = await fetch(`${webUrl}/api/media/${encodeURIComponent(meetingId)}/audio`, {
    headers: { range: 'bytes=0-99', authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(res.status).toBe(206);
  expect(res.headers.get('content-range')).toMatch(/^bytes 0-99\/\d+$/);
  expect((await res.arrayBuffer()).byteLength).toBe(100);
});

test('a read-only token browses but gets no upload, edit or reprocess controls', async () => {
  const { createToken } = await api<{ createToken: { secret: string } }>(`mutation { createToken(name: "analyst", scope: READ) { secret } }`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('textbox', { name: 'API token' }).fill(createToken.secret);
  await page.getByRole('button', { name: 'Use token' }).click();
  await page.getByText('is read-only').waitFor();
  expect(await page.getByTestId('session-scope').textContent()).toContain('read');
  expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Upload' }).count()).toBe(0);
  await page.goto(`${webUrl}/meetings/${encodeURIComponent(meetingId)}`);
  await page.getByTestId('speaker-row').first().waitFor();
  expect(await page.getByRole('button', { name: 'Edit' }).count()).toBe(0);
});
