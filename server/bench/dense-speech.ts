/**
 * Dense speech for bench:pipeline: the dev set's diarization clips and verification utterances back to
 * back, repeated to the asked length, with a reference RTTM built from the clips' RTTM and utt2spk.
 * Unlike the synthetic meeting there are no pauses between pieces, so every chunk is segmented and
 * nearly every stretch embedded. Each round plays the sources in another (seeded) order and each piece
 * at another gain (±3 dB), so no two chunks of the file are the same samples: a cache keyed on content
 * would find nothing to reuse. Built fresh into a scratch folder on every run (about 2 s per hour).
 * It holds far more voices than a meeting (44 at 10 min, 92 at 1 h), above the spectral count's default
 * cap of 10 (clustering.spectralMaxSpeakers): its DER is for catching regressions, not a meeting's DER.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';

import { seededRandom } from '../src/clustering/random';
import { devDataDir } from '../src/common/paths';
import type { SpeakerTurn } from '../src/diarization/types';
import { parseRttm, writeRttm } from '../src/formats/rttm';
import { speechAndOverlap } from './synthetic-meeting';
import { readWavFormat, readWavMono16, wavHeaderMono16 } from './wav';

const SAMPLE_RATE = 16000;
/** Each piece's gain is drawn from ± this many dB. */
const GAIN_SPREAD_DB = 3;

/** One source recording with its reference turns (relative to its own start, labels already global). */
export interface DenseSource {
  id: string;
  wavPath: string;
  durationSec: number;
  turns: SpeakerTurn[];
}

/** Where one copy of a source lands in the dense file. */
export interface DensePiece {
  source: number;
  offsetSec: number;
  /** Seconds of the source taken from its start (less than its duration only for the last piece). */
  takeSec: number;
  gainDb: number;
}

/**
 * Rounds of all sources, each round in a seeded shuffle, until `targetSec` is filled; the last piece is
 * cut to end exactly at `targetSec`.
 */
export function planDensePieces(sources: readonly Pick<DenseSource, 'durationSec'>[], targetSec: number, seed: number): DensePiece[] {
  if (sources.length === 0 || sources.every((s) => s.durationSec <= 0)) throw new Error('dense speech needs at least one source with audio');
  const rng = seededRandom(seed * 65537 + 11);
  const pieces: DensePiece[] = [];
  let offsetSec = 0;
  while (offsetSec < targetSec) {
    const order = sources.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const source of order) {
      if (offsetSec >= targetSec) break;
      const takeSec = Math.min(sources[source].durationSec, targetSec - offsetSec);
      if (takeSec <= 0) continue;
      pieces.push({ source, offsetSec, takeSec, gainDb: (2 * rng() - 1) * GAIN_SPREAD_DB });
      offsetSec += takeSec;
    }
  }
  return pieces;
}

/** The reference of the dense file: each piece's turns shifted to its offset and cut at its end. */
export function denseReference(sources: readonly Pick<DenseSource, 'turns'>[], pieces: readonly DensePiece[]): SpeakerTurn[] {
  const turns: SpeakerTurn[] = [];
  for (const piece of pieces) {
    for (const t of sources[piece.source].turns) {
      const startSec = Math.max(0, t.startSec);
      const endSec = Math.min(piece.takeSec, t.endSec);
      if (endSec <= startSec) continue;
      turns.push({ speaker: t.speaker, startSec: piece.offsetSec + startSec, endSec: piece.offsetSec + endSec });
    }
  }
  return turns;
}

/**
 * A clip's speaker label made global. AMI participant ids (MEE068, FEO066, …) name one person across
 * meetings, so they stay as they are; any other label (speaker1, speakerA) only means something inside
 * its own recording and is prefixed with the recording's id.
 */
export function globalSpeakerLabel(recordingId: string, label: string): string {
  return /^[MF][EO][EO]\d{3}$/.test(label) ? label : `${recordingId}/${label}`;
}

/** The dev set's clips (with their RTTM) and verification utterances (one speaker each, from utt2spk). */
export function loadDevSources(dataDir = devDataDir): DenseSource[] {
  const sources: DenseSource[] = [];
  const diarizationDir = path.join(dataDir, 'diarization');
  const uem = readFileSync(path.join(diarizationDir, 'all.uem'), 'utf8');
  const clipIds = uem
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0])
    .filter(Boolean);
  for (const id of clipIds) {
    const wavPath = path.join(diarizationDir, `${id}.wav`);
    const rttmPath = path.join(diarizationDir, `${id}.rttm`);
    const reference = parseRttm(readFileSync(rttmPath, 'utf8'), rttmPath).get(id) ?? [];
    const turns = reference.map((t) => ({ ...t, speaker: globalSpeakerLabel(id, t.speaker) }));
    sources.push({ id, wavPath, durationSec: wavDurationSec(wavPath), turns });
  }
  const verificationDir = path.join(dataDir, 'verification');
  for (const line of readFileSync(path.join(verificationDir, 'utt2spk.txt'), 'utf8').split('\n')) {
    const [relative, speaker] = line.trim().split(/\s+/);
    if (!relative || !speaker) continue;
    const wavPath = path.join(verificationDir, relative);
    const durationSec = wavDurationSec(wavPath);
    sources.push({ id: relative, wavPath, durationSec, turns: [{ speaker: `utt/${speaker}`, startSec: 0, endSec: durationSec }] });
  }
  return sources;
}

export interface DenseSpeech {
  fileId: string;
  wavPath: string;
  rttmPath: string;
  durationSec: number;
  numSpeakers: number;
  speechSec: number;
  overlapSec: number;
  numPieces: number;
}

/** Writes `<dir>/dense_<minutes>m_s<seed>.wav` and its `.rttm`. */
export function buildDenseSpeech(options: { minutes: number; seed: number; dir: string; sources?: DenseSource[] }): DenseSpeech {
  const sources = options.sources ?? loadDevSources();
  const targetSec = Math.round(options.minutes * 60 * SAMPLE_RATE) / SAMPLE_RATE;
  const pieces = planDensePieces(sources, targetSec, options.seed);
  const fileId = `dense_${options.minutes}m_s${options.seed}`;
  const wavPath = path.join(options.dir, `${fileId}.wav`);
  const rttmPath = path.join(options.dir, `${fileId}.rttm`);
  const totalSamples = Math.round(targetSec * SAMPLE_RATE);
  const fd = openSync(wavPath, 'w');
  try {
    writeSync(fd, wavHeaderMono16(totalSamples, SAMPLE_RATE));
    const cache = new Map<number, Float32Array>(); // the dev set is small (~26 min, 100 MB as floats)
    let written = 0;
    for (const piece of pieces) {
      let samples = cache.get(piece.source);
      if (!samples) {
        samples = readWavMono16(sources[piece.source].wavPath).samples;
        cache.set(piece.source, samples);
      }
      // Sample offsets from the running count, so rounding never opens a gap or an overlap between pieces.
      const end = piece === pieces[pieces.length - 1] ? totalSamples : Math.round((piece.offsetSec + piece.takeSec) * SAMPLE_RATE);
      const count = Math.min(end - written, samples.length);
      const gain = 10 ** (piece.gainDb / 20);
      const out = Buffer.alloc(count * 2);
      for (let i = 0; i < count; i++) out.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i] * gain * 32768))), 2 * i);
      writeSync(fd, out);
      written += count;
    }
    if (written < totalSamples) writeSync(fd, Buffer.alloc((totalSamples - written) * 2));
  } finally {
    closeSync(fd);
  }
  const reference = denseReference(sources, pieces);
  const rttm = writeRttm(fileId, reference);
  const rttmFd = openSync(rttmPath, 'w');
  writeSync(rttmFd, rttm);
  closeSync(rttmFd);
  const { speechSec, overlapSec } = speechAndOverlap(reference);
  return {
    fileId,
    wavPath,
    rttmPath,
    durationSec: totalSamples / SAMPLE_RATE,
    numSpeakers: new Set(reference.map((t) => t.speaker)).size,
    speechSec,
    overlapSec,
    numPieces: pieces.length,
  };
}

function wavDurationSec(file: string): number {
  const format = readWavFormat(file);
  if (!format || format.sampleRate !== SAMPLE_RATE || format.channels !== 1 || format.bitsPerSample !== 16) {
    throw new Error(`${path.basename(file)}: expected 16 kHz mono 16-bit PCM (the dev set's format)`);
  }
  return format.dataBytes / 2 / SAMPLE_RATE;
}
