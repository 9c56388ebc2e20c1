/**
 * Bad input through the public audio API: every case fails with a typed error whose message names
 * the file, says what was wrong and what to do — or, for a truncated file, decodes what is readable.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeAudio, decodeToArray, ffmpegBinaries, probeAudio, TARGET_SAMPLE_RATE, type DecodeOptions } from '../server/src/audio';
import { FileNotFoundError, InvalidArgumentError, InvalidAudioError, NoAudioStreamError } from '../server/src/common/errors';
import { devDataDir } from '../server/src/common/paths';
import { emptyWavHeader } from './helpers/media';

const SOURCE = path.join(devDataDir, 'diarization', 'pyannote_sample.wav');

let dir: string;

function generate(name: string, args: string[]): string {
  const out = path.join(dir, name);
  execFileSync(ffmpegBinaries().ffmpegPath, ['-v', 'error', '-nostdin', '-y', ...args, out]);
  return out;
}

/** Runs decodeAudio to the end and returns the error it threw (or fails the test). */
async function decodeError(file: string, options?: DecodeOptions): Promise<Error> {
  try {
    for await (const block of decodeAudio(file, options)) expect(block).toBeInstanceOf(Float32Array);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`decodeAudio(${file}) did not throw`);
}

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bad-input-audio-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('a path that does not exist is FileNotFoundError naming the path', async () => {
  const missing = path.join(dir, 'no-such-meeting.wav');
  const errors: unknown[] = [
    await decodeError(missing),
    await probeAudio(missing).catch((e: unknown) => e),
    await decodeToArray(missing).catch((e: unknown) => e),
  ];
  for (const err of errors) {
    expect(err).toBeInstanceOf(FileNotFoundError);
    expect((err as Error).message).toContain(missing);
    expect((err as Error).message).toMatch(/Check the path/);
  }
});

test('a directory is InvalidArgumentError', async () => {
  const folder = path.join(dir, 'recordings');
  mkdirSync(folder);
  const err = await decodeError(folder);
  expect(err).toBeInstanceOf(InvalidArgumentError);
  expect(err.message).toMatch(/recordings" is a directory, not an audio file\. Pass the path of a recording/);
});

test('an empty file (0 bytes) is InvalidAudioError "is empty (0 bytes)"', async () => {
  const file = path.join(dir, 'empty.wav');
  writeFileSync(file, '');
  const err = await decodeError(file);
  expect(err).toBeInstanceOf(InvalidAudioError);
  expect(err.message).toContain(`"${file}" is empty (0 bytes)`);
  expect(err.message).toMatch(/provide the recording again/);
});

test('a text file renamed .wav is InvalidAudioError "not a recognised audio/video file"', async () => {
  const file = path.join(dir, 'minutes.wav');
  writeFileSync(file, 'Minutes of the meeting\n1. Budget\n2. Any other business\n');
  const err = await decodeError(file);
  expect(err).toBeInstanceOf(InvalidAudioError);
  expect(err.message).toContain(`"${file}" is not a recognised audio/video file`);
  expect(err.message).toMatch(/Invalid data found when processing input/); // ffmpeg's own words
  expect(err.message).toMatch(/Check that it plays/);
});

test('a video without an audio track is NoAudioStreamError', async () => {
  const file = generate('slides.mp4', ['-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '1', '-c:v', 'mpeg4']);
  const err = await decodeError(file);
  expect(err).toBeInstanceOf(NoAudioStreamError);
  expect(err.message).toContain(file);
  expect(err.message).toMatch(/Provide a recording with an audio track/);
});

test('a valid WAV header with 0 samples is InvalidAudioError "contains no audio samples"', async () => {
  const file = path.join(dir, 'zero-length.wav');
  writeFileSync(file, emptyWavHeader());
  expect(await probeAudio(file)).toMatchObject({ formatName: 'wav', sampleRate: 16000, channels: 1 }); // the header itself is fine
  const err = await decodeError(file);
  expect(err).toBeInstanceOf(InvalidAudioError);
  expect(err.message).toContain(`"${file}" contains no audio samples`);
  expect(err.message).toMatch(/Provide a recording that has sound in it/);
});

describe('a truncated mp3', () => {
  let whole: Buffer;
  beforeAll(() => {
    whole = readFileSync(generate('whole.mp3', ['-i', SOURCE, '-t', '10', '-c:a', 'libmp3lame', '-b:a', '64k']));
  });

  test('cut in half decodes the readable half without throwing', async () => {
    const file = path.join(dir, 'half.mp3');
    writeFileSync(file, whole.subarray(0, whole.length >> 1));
    const samples = await decodeToArray(file);
    expect(Math.abs(samples.length - 5 * TARGET_SAMPLE_RATE)).toBeLessThan(0.25 * TARGET_SAMPLE_RATE);
  });

  test('cut to a few hundred bytes (nothing decodable) is InvalidAudioError', async () => {
    const file = path.join(dir, 'stub.mp3');
    writeFileSync(file, whole.subarray(0, 300));
    const err = await decodeError(file);
    expect(err).toBeInstanceOf(InvalidAudioError);
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/not a recognised audio\/video file, or it is damaged|contains no audio samples/);
  });
});

test('channel 2 of a stereo file is InvalidArgumentError listing the valid channels', async () => {
  const file = generate('call.wav', ['-f', 'lavfi', '-i', 'sine=f=300:r=16000:d=1', '-ac', '2']);
  const err = await decodeError(file, { channel: 2 });
  expect(err).toBeInstanceOf(InvalidArgumentError);
  expect(err.message).toContain(`channel 2 does not exist in "${file}", which has 2 channels`);
  expect(err.message).toMatch(/from 0 to 1, or leave channel out/);
});
