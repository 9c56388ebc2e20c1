import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { devDataDir } from '../common/paths';
import { AbortedError, InvalidArgumentError, InvalidAudioError } from '../common/errors';
import { ffmpegBinaries } from './ffmpeg';
import { transcodePlayable } from './playable';
import { probeAudio } from './probe';

const SOURCE = path.join(devDataDir, 'diarization', 'ami_EN2001a_0000-0030.wav');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'playable-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function generate(name: string, args: string[]): string {
  const out = path.join(dir, name);
  execFileSync(ffmpegBinaries().ffmpegPath, ['-v', 'error', '-nostdin', '-y', ...args, out]);
  return out;
}

test.each([
  ['dev recording (16 kHz wav)', () => SOURCE],
  ['stereo 44.1 kHz mp3, 7.3 s', () => generate('stereo.mp3', ['-i', SOURCE, '-t', '7.3', '-ar', '44100', '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '96k'])],
])('%s becomes mono Opus in WebM of the same duration', async (_name, makeInput) => {
  const input = makeInput();
  const before = await probeAudio(input);
  const output = path.join(dir, `${path.basename(input)}.webm`);
  await transcodePlayable(input, output);
  const after = await probeAudio(output);
  expect(after.formatName).toBe('matroska,webm');
  expect(after.codec).toBe('opus');
  expect(after.channels).toBe(1);
  expect(after.durationSec).toBeDefined();
  expect(Math.abs(after.durationSec! - before.durationSec!)).toBeLessThan(0.1);
});

test('a text file named .wav is refused as invalid audio and leaves no output', async () => {
  const input = path.join(dir, 'notes.wav');
  writeFileSync(input, 'meeting notes, not a recording\n');
  const output = path.join(dir, 'notes.webm');
  await expect(transcodePlayable(input, output)).rejects.toThrow(InvalidAudioError);
  expect(existsSync(output)).toBe(false);
});

test('an aborted transcode stops with AbortedError and removes the partial output', async () => {
  const long = generate('long.wav', ['-f', 'lavfi', '-i', 'anoisesrc=r=16000:a=0.3:d=1800', '-c:a', 'pcm_s16le']);
  const output = path.join(dir, 'long.webm');
  const controller = new AbortController();
  const running = transcodePlayable(long, output, { signal: controller.signal });
  setTimeout(() => controller.abort(), 300);
  await expect(running).rejects.toThrow(AbortedError);
  expect(existsSync(output)).toBe(false);
});

test('a bitrate outside what Opus supports is refused', async () => {
  await expect(transcodePlayable(SOURCE, path.join(dir, 'x.webm'), { bitrateKbps: 1000 })).rejects.toThrow(InvalidArgumentError);
});
