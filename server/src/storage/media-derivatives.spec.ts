import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AbortedError, InvalidAudioError } from '../common/errors';
import { devDataDir } from '../common/paths';
import { decodePeaks } from '../audio/peaks';
import { LocalBlobStore } from './blob-store';
import { createMediaDerivatives } from './media-derivatives';

let root: string;
let blobs: LocalBlobStore;

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'derivatives-'));
  blobs = new LocalBlobStore(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function putFile(key: string, bytes: Buffer | string): void {
  mkdirSync(path.dirname(blobs.absolutePath(key)), { recursive: true });
  writeFileSync(blobs.absolutePath(key), bytes);
}

test('stores playable.webm and peaks.dat under the prefix, duration from the decoded samples', async () => {
  const wav = path.join(devDataDir, 'diarization', 'pyannote_sample.wav');
  putFile('uploads/u1/original.wav', readFileSync(wav));
  const result = await createMediaDerivatives({ blobs, sourceKey: 'uploads/u1/original.wav', targetPrefix: 'uploads/u1/' });
  expect(result.playableKey).toBe('uploads/u1/playable.webm');
  expect(result.peaksKey).toBe('uploads/u1/peaks.dat');
  expect(readdirSync(path.join(root, 'uploads', 'u1')).sort()).toEqual(['original.wav', 'peaks.dat', 'playable.webm']);
  const peaks = decodePeaks(readFileSync(blobs.absolutePath(result.peaksKey)));
  // One peak per 10 ms, the last one partial.
  expect(peaks.data.length / 2).toBe(Math.ceil(result.durationSec * 100 - 1e-9));
  expect(result.durationSec).toBeGreaterThan(1);
});

test('a source that is not audio: InvalidAudioError and nothing written', async () => {
  putFile('uploads/u2/original.wav', 'not audio at all');
  await expect(createMediaDerivatives({ blobs, sourceKey: 'uploads/u2/original.wav', targetPrefix: 'uploads/u2' })).rejects.toThrow(InvalidAudioError);
  expect(readdirSync(path.join(root, 'uploads', 'u2'))).toEqual(['original.wav']);
});

test('an aborted ingest leaves neither derivative', async () => {
  const wav = path.join(devDataDir, 'diarization', 'pyannote_sample.wav');
  putFile('uploads/u3/original.wav', readFileSync(wav));
  const controller = new AbortController();
  controller.abort();
  await expect(createMediaDerivatives({ blobs, sourceKey: 'uploads/u3/original.wav', targetPrefix: 'uploads/u3', signal: controller.signal })).rejects.toThrow(
    AbortedError,
  );
  expect(readdirSync(path.join(root, 'uploads', 'u3'))).toEqual(['original.wav']);
});
