/**
 * What ingest stores beside a recording for the UI: a browser-playable copy and waveform peaks.
 * Either both are stored or neither (a failure removes what was written).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { probeAudio } from '../audio';
import { computePeaks, encodePeaks } from '../audio/peaks';
import { PLAYABLE_EXTENSION, transcodePlayable } from '../audio/playable';
import type { BlobStore } from './blob-store';

export interface MediaDerivatives {
  /** Opus/WebM copy, `<targetPrefix>/playable.webm`. */
  playableKey: string;
  /** Peaks (audiowaveform .dat, 8-bit, 10 ms), `<targetPrefix>/peaks.dat`. */
  peaksKey: string;
  /** Exact duration from the decoded samples (containers may not say, or say an estimate). */
  durationSec: number;
}

export interface DerivativesInput {
  blobs: BlobStore;
  /** Key of the original recording. */
  sourceKey: string;
  /** Folder for the derivatives, e.g. `uploads/<id>` or `meetings/<id>`. */
  targetPrefix: string;
  signal?: AbortSignal;
}

/**
 * Transcodes the recording and computes its peaks (two streaming ffmpeg passes; the peaks pass never
 * holds the decoded audio). Throws what probeAudio / transcodePlayable / computePeaks throw.
 */
export async function createMediaDerivatives(input: DerivativesInput): Promise<MediaDerivatives> {
  const { blobs, sourceKey, signal } = input;
  const prefix = input.targetPrefix.replace(/\/+$/, '');
  const playableKey = `${prefix}/playable${PLAYABLE_EXTENSION}`;
  const peaksKey = `${prefix}/peaks.dat`;
  return blobs.withLocalFile(sourceKey, (source) => deriveFrom(source, blobs, playableKey, peaksKey, signal));
}

async function deriveFrom(source: string, blobs: BlobStore, playableKey: string, peaksKey: string, signal?: AbortSignal): Promise<MediaDerivatives> {
  const info = await probeAudio(source);
  // The WebM muxer needs a seekable output to write duration and cues, so transcode to a local file first.
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'playable-'));
  try {
    const localCopy = path.join(tmp, `playable${PLAYABLE_EXTENSION}`);
    await transcodePlayable(source, localCopy, { info, ...(signal ? { signal } : {}) });
    await pipeline(createReadStream(localCopy), blobs.createWriteStream(playableKey));
    const peaks = await computePeaks(source, { info, ...(signal ? { signal } : {}) });
    await pipeline(Readable.from([encodePeaks(peaks)]), blobs.createWriteStream(peaksKey));
    return { playableKey, peaksKey, durationSec: peaks.totalSamples / peaks.sampleRate };
  } catch (err) {
    await Promise.all([blobs.remove(playableKey), blobs.remove(peaksKey)]);
    throw err;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
