import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { devDataDir, repoRoot } from '../server/src/common/paths';
import { parseRttm } from '../server/src/formats/rttm';
import { tempDir } from './helpers/media';

const run = promisify(execFile);
const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');
const cli = (name: string) => path.join(repoRoot, 'server/src/cli', `${name}.ts`);
const sample = path.join(devDataDir, 'diarization/pyannote_sample.wav');

describe('command-line tools', () => {
  const media = tempDir('cli');
  afterAll(() => media.cleanup());

  it('diarize writes RTTM on stdout with the input base name as file-id, timings on stderr', async () => {
    const { stdout, stderr } = await run(tsx, [cli('diarize'), sample, '--threads', '2']);
    const turns = parseRttm(stdout).get('pyannote_sample');
    expect(turns?.length).toBeGreaterThan(2);
    expect(stderr).toMatch(/segmentation \d+\.\d+s/);
  });

  it('diarize --format json --out writes the result with speaker centroids', async () => {
    const out = path.join(media.dir, 'result.json');
    const { stdout } = await run(tsx, [cli('diarize'), sample, '--format', 'json', '--out', out, '--num-speakers', '2']);
    expect(stdout).toBe('');
    const result = JSON.parse(readFileSync(out, 'utf8'));
    expect(result.numSpeakers).toBe(2);
    expect(result.speakers[0].centroid).toHaveLength(256);
  });

  it('diarize fails with a clear message and exit code 1 on a missing file', async () => {
    await expect(run(tsx, [cli('diarize'), path.join(media.dir, 'nope.wav')])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/FILE_NOT_FOUND.*nope\.wav/),
    });
  });

  it('diarize --set applies settings and refuses unknown ones with exit code 1', async () => {
    const stats = path.join(media.dir, 'stats.json');
    const { stdout } = await run(tsx, [cli('diarize'), sample, '--threads', '2', '--stats', stats, '--set', '{"clustering":{"numSpeakers":3}}']);
    expect(
      new Set(
        parseRttm(stdout)
          .get('pyannote_sample')
          ?.map((t) => t.speaker),
      ).size,
    ).toBe(3);
    expect(JSON.parse(readFileSync(stats, 'utf8')).numSpeakers).toBe(3);
    await expect(run(tsx, [cli('diarize'), sample, '--set', '{"segmentation":{"adaptive":true}}'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/INVALID_ARGUMENT.*unknown settings: segmentation\.adaptive/),
    });
  });

  it('eval:der --set scores with the given settings, names them in the header, and refuses unknown ones', async () => {
    const set = path.join(media.dir, 'one-file-set');
    mkdirSync(set, { recursive: true });
    for (const ext of ['wav', 'rttm']) copyFileSync(path.join(devDataDir, `diarization/pyannote_sample.${ext}`), path.join(set, `pyannote_sample.${ext}`));
    const settings = '{"turns":{"minDurationOffSec":0.3}}';
    const { stdout } = await run(tsx, [cli('eval-der'), set, '--strategy', 'windows', '--threads', '2', '--set', settings]);
    expect(stdout).toContain(`--set ${settings}`);
    expect(stdout).toMatch(/all 1 files, collar 0\.25: DER \d+\.\d+ %/);
    await expect(run(tsx, [cli('eval-der'), set, '--set', '{"turns":{"minDurationOff":0.3}}'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/INVALID_ARGUMENT.*unknown settings: turns\.minDurationOff/),
    });
    await expect(run(tsx, [cli('eval-der'), set, '--set', 'not json'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/--set expects a JSON object/),
    });
  });

  it('embed reads a list file with paths relative to it and writes one JSON line per input', async () => {
    const list = path.join(devDataDir, 'verification');
    const listFile = path.join(media.dir, 'list.txt');
    const first = path.join(list, 'wav/ls-3005/3005-163389-0000.wav');
    const second = path.relative(media.dir, path.join(list, 'wav/ls-2609/2609-156975-0008.wav'));
    writeFileSync(listFile, `${first}\n${second}\n`);
    const { stdout } = await run(tsx, [cli('embed'), listFile]);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual([first, second]);
    for (const l of lines) {
      expect(l.embedding).toHaveLength(256);
      expect(Math.hypot(...l.embedding)).toBeCloseTo(1, 3);
    }
  });
});
