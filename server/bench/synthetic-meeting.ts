/**
 * A long synthetic meeting built from the real dev speech, with its exact ground truth, so speed, memory
 * and DER can be measured on hours of audio although the dev clips last seconds.
 *
 *   npx tsx server/bench/synthetic-meeting.ts --hours 4 [--seed 1]
 *
 * 4–8 speakers (seeded) come from the verification utterances (speakers with enough material) and from
 * single-speaker stretches of the diarization clips (where their RTTM has one speaker alone). Turns are
 * log-normal (median 4 s), pauses exponential with occasional long gaps, some turns start before the
 * previous one ends, and listeners drop short backchannels into long turns; overlapping speech is mixed
 * sample-wise over quiet pink noise. The material repeats over hours, which is fine for timing.
 *
 * The WAV is streamed: the plan (a few thousand pieces) is made first, then samples are mixed and written
 * block by block, so 4 h (920 MB as float32) never sits in memory. Results are cached in `<repo>/.bench/`
 * under a name made of the parameters and GENERATOR_VERSION; bump the version whenever the output changes.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { gaussian, seededRandom } from '../src/clustering/random';
import { devDataDir, repoRoot } from '../src/common/paths';
import type { SpeakerTurn } from '../src/diarization/types';
import { listDiarizationSet } from '../src/eval/der-report';
import { readRttmFile, writeRttm } from '../src/formats/rttm';
import { readWavFormat, readWavMono16, wavHeaderMono16 } from './wav';

/** Part of every cache name: bump it when a change to this file changes the audio or the RTTM. */
export const GENERATOR_VERSION = 1;

const SAMPLE_RATE = 16000;

/** The meeting model: every knob, with units in the names. */
const MEETING = {
  minSpeakers: 4,
  maxSpeakers: 8,
  /** A speaker qualifies with at least this much speech (after trimming silence). */
  minMaterialSec: 20,
  /** Solo stretches shorter than this are not worth cutting out of a diarization clip. */
  minClipStretchSec: 1,
  turnMedianSec: 4,
  /** σ of ln(turn length): 0.8 puts ~90 % of turns between 1.4 s and 11 s. */
  turnLogSigma: 0.8,
  turnMinSec: 0.6,
  turnMaxSec: 30,
  pauseMeanSec: 0.5,
  longGapProbability: 0.03,
  longGapSec: [3, 12],
  /** Share of turns that start before the previous one ends, by up to overlapMaxSec (and half that turn). */
  overlapProbability: 0.08,
  overlapMaxSec: 1.5,
  /** Chance that a listener says "yeah" / "mm-hmm" somewhere inside a turn of 3 s or more. */
  backchannelProbability: 0.2,
  backchannelSec: [0.3, 0.9],
  /** Breath between two source utterances inside one turn. */
  intraTurnPauseSec: [0.15, 0.45],
  speechRmsDbfs: -26,
  /** Per-speaker loudness spread around speechRmsDbfs (near and far talkers). */
  speakerGainDb: [-4, 2],
  noiseRmsDbfs: -45,
  /** Fade in/out at every cut so pieces do not click. */
  fadeSec: 0.01,
  /** Reference turns of one speaker closer than this are one turn (annotators do not mark breaths). */
  truthMergeGapSec: 0.3,
} as const;

/**
 * Energy voice activity on the source utterances, so the truth calls neither their silent edges nor their
 * pauses speech. A frame is speech when it lies above the clip's noise floor (10th percentile of frame
 * energy) by aboveFloorShare of the floor-to-loud (95th percentile) range. LibriSpeech test-other has a floor
 * only ~30 dB under its loud frames, so a fixed "loud − 30 dB" would call its pauses speech; with half the
 * range, breaths and clicks inside pauses (which segmentation models call non-speech) stay out, and padSec
 * keeps weak word endings in.
 */
const VAD = { frameSec: 0.025, hopSec: 0.01, aboveFloorShare: 0.5, floorDbfs: -55, mergeGapSec: 0.3, minSpeechSec: 0.1, padSec: 0.05 } as const;

/** Samples mixed and written per block. */
const BLOCK_SAMPLES = 10 * SAMPLE_RATE;

export interface SyntheticMeetingOptions {
  /** Length of the meeting in hours (float). */
  hours: number;
  /** RNG seed; same seed, same meeting. Default 1. */
  seed?: number;
  /** Where the cached WAV/RTTM live; default `<repo>/.bench`. */
  cacheDir?: string;
  /** Progress lines while building (nothing is printed when the meeting is cached). */
  log?: (line: string) => void;
}

export interface SyntheticMeeting {
  wavPath: string;
  rttmPath: string;
  /** The RTTM file-id, also the WAV's base name. */
  fileId: string;
  durationSec: number;
  /** Speakers present in the reference. */
  numSpeakers: number;
  /** Reference speech (union over speakers) and overlapped speech (2+ speakers), in seconds. */
  speechSec: number;
  overlapSec: number;
  numTurns: number;
  /** Source speaker ids, as used for the RTTM labels. */
  speakers: string[];
}

/** The cached meeting for these parameters, built first if missing. */
export async function ensureSyntheticMeeting(options: SyntheticMeetingOptions): Promise<SyntheticMeeting> {
  const { hours } = options;
  const seed = options.seed ?? 1;
  if (!Number.isFinite(hours) || hours <= 0) throw new Error(`hours must be a positive number, got ${hours}`);
  if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const cacheDir = options.cacheDir ?? path.join(repoRoot, '.bench');
  const fileId = `synthetic-meeting-v${GENERATOR_VERSION}-${hours}h-seed${seed}`;
  const wavPath = path.join(cacheDir, `${fileId}.wav`);
  const rttmPath = path.join(cacheDir, `${fileId}.rttm`);
  const metaPath = path.join(cacheDir, `${fileId}.json`);
  // The metadata is renamed into place last, so its presence means the other two are complete.
  if (existsSync(metaPath) && existsSync(wavPath) && existsSync(rttmPath)) {
    return { ...(JSON.parse(await readFile(metaPath, 'utf8')) as Omit<SyntheticMeeting, 'wavPath' | 'rttmPath'>), wavPath, rttmPath };
  }
  await mkdir(cacheDir, { recursive: true });
  const log = options.log ?? (() => undefined);
  const started = performance.now();
  const numSamples = Math.round(hours * 3600 * SAMPLE_RATE);
  const speakers = await loadSpeakers(seed);
  const pieces = planMeeting(speakers, numSamples, seed);
  const truth = referenceTurns(pieces, speakers, numSamples);
  log(
    `building ${fileId}: ${(numSamples / SAMPLE_RATE / 60).toFixed(1)} min, ${speakers.length} speakers (${speakers.map((s) => s.id).join(', ')}), ${pieces.length} pieces`,
  );

  // Write under temporary names and rename, so an interrupted build never looks like a cached one.
  const partial = (file: string): string => `${file}.partial-${process.pid}`;
  await renderWav(partial(wavPath), pieces, numSamples, seed);
  await writeFile(partial(rttmPath), writeRttm(fileId, truth));
  const { speechSec, overlapSec } = speechAndOverlap(truth);
  // A very short meeting may end before everybody has spoken: count only those in the reference.
  const present = speakers.map((s) => s.id).filter((id) => truth.some((t) => t.speaker === id));
  const meta: Omit<SyntheticMeeting, 'wavPath' | 'rttmPath'> = {
    fileId,
    durationSec: numSamples / SAMPLE_RATE,
    numSpeakers: present.length,
    speechSec,
    overlapSec,
    numTurns: truth.length,
    speakers: present,
  };
  await writeFile(partial(metaPath), `${JSON.stringify(meta, null, 2)}\n`);
  await rename(partial(wavPath), wavPath);
  await rename(partial(rttmPath), rttmPath);
  await rename(partial(metaPath), metaPath);
  log(`built ${wavPath} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { ...meta, wavPath, rttmPath };
}

// ---------------------------------------------------------------------------------------------------------
// Source material

/** Sample ranges [start, end) inside one clip. */
interface SampleRange {
  start: number;
  end: number;
}

/** One piece of one speaker's real speech, level-normalized, with the ranges that are speech. */
interface SourceClip {
  samples: Float32Array;
  speech: SampleRange[];
}

interface Speaker {
  /** `ls-1688` (verification folder), `ami:FEE083` (AMI ids are corpus-wide), `pyannote_sample:speaker90`. */
  id: string;
  clips: SourceClip[];
  gain: number;
}

/** Where a candidate's material lives: whole utterances, or stretches of a diarization clip. */
interface MaterialRef {
  wavPath: string;
  startSec?: number;
  endSec?: number;
}

interface Candidate {
  id: string;
  material: MaterialRef[];
  totalSec: number;
}

/** Picks 4–8 speakers with enough material (seeded) and loads each source once. */
async function loadSpeakers(seed: number): Promise<Speaker[]> {
  const candidates = [...verificationCandidates(), ...(await clipCandidates())]
    .filter((c) => c.totalSec >= MEETING.minMaterialSec)
    .sort((a, b) => a.id.localeCompare(b.id));
  if (candidates.length < MEETING.minSpeakers) {
    throw new Error(
      `Only ${candidates.length} dev speakers have ${MEETING.minMaterialSec} s of speech; need ${MEETING.minSpeakers} (looked in ${devDataDir}).`,
    );
  }
  const rng = seededRandom(seed * 7919 + 1);
  const maxSpeakers = Math.min(MEETING.maxSpeakers, candidates.length);
  const count = MEETING.minSpeakers + Math.floor(rng() * (maxSpeakers - MEETING.minSpeakers + 1));
  const chosen = shuffle(candidates, rng).slice(0, count);
  const clipCache = new Map<string, Float32Array>();
  return chosen.map((candidate) => ({
    id: candidate.id,
    clips: candidate.material.map((ref) => loadClip(ref, clipCache)).filter((clip) => clip.speech.length > 0),
    gain: dbToGain(MEETING.speakerGainDb[0] + rng() * (MEETING.speakerGainDb[1] - MEETING.speakerGainDb[0])),
  }));
}

/** verification/wav/<speaker>/*.wav; durations from the headers only. */
function verificationCandidates(): Candidate[] {
  const root = path.join(devDataDir, 'verification', 'wav');
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => {
      const dir = path.join(root, entry.name);
      const files = readdirSync(dir)
        .filter((f) => f.toLowerCase().endsWith('.wav'))
        .sort();
      const material = files.map((f) => ({ wavPath: path.join(dir, f) }));
      const totalSec = material.reduce((sum, m) => sum + (readWavFormat(m.wavPath)?.durationSec ?? 0), 0);
      return { id: entry.name, material, totalSec };
    });
}

/** Stretches of the diarization clips where the reference has exactly one speaker, grouped by speaker. */
async function clipCandidates(): Promise<Candidate[]> {
  const byId = new Map<string, Candidate>();
  for (const item of await listDiarizationSet(path.join(devDataDir, 'diarization'))) {
    const turns = (await readRttmFile(item.rttmPath)).get(item.fileId) ?? [];
    const speakers = [...new Set(turns.map((t) => t.speaker))];
    for (const speaker of speakers) {
      const own = unionSec(turns.filter((t) => t.speaker === speaker));
      const others = unionSec(turns.filter((t) => t.speaker !== speaker));
      // AMI speaker ids (MEO069, FEE083, …) name the same person across meetings; other labels are per file.
      const id = item.fileId.startsWith('ami_') ? `ami:${speaker}` : `${item.fileId}:${speaker}`;
      const candidate = byId.get(id) ?? { id, material: [], totalSec: 0 };
      for (const [startSec, endSec] of subtractSec(own, others)) {
        if (endSec - startSec < MEETING.minClipStretchSec) continue;
        candidate.material.push({ wavPath: item.wavPath, startSec, endSec });
        candidate.totalSec += endSec - startSec;
      }
      byId.set(id, candidate);
    }
  }
  return [...byId.values()];
}

/** Loads one source (whole utterance trimmed to its speech, or a solo stretch) at the meeting's speech level. */
function loadClip(ref: MaterialRef, clipCache: Map<string, Float32Array>): SourceClip {
  let whole = clipCache.get(ref.wavPath);
  if (!whole) {
    const wav = readWavMono16(ref.wavPath);
    if (wav.sampleRate !== SAMPLE_RATE) throw new Error(`${ref.wavPath}: expected ${SAMPLE_RATE} Hz, got ${wav.sampleRate}`);
    whole = wav.samples;
    clipCache.set(ref.wavPath, whole);
  }
  let samples: Float32Array;
  let speech: SampleRange[];
  if (ref.startSec !== undefined && ref.endSec !== undefined) {
    // A stretch the clip's reference marks as one speaker's speech: all of it is speech.
    samples = whole.slice(Math.round(ref.startSec * SAMPLE_RATE), Math.round(ref.endSec * SAMPLE_RATE));
    speech = [{ start: 0, end: samples.length }];
  } else {
    const ranges = energySpeech(whole);
    if (ranges.length === 0) return { samples: new Float32Array(0), speech: [] };
    const first = ranges[0].start;
    samples = whole.slice(first, ranges[ranges.length - 1].end);
    speech = ranges.map((r) => ({ start: r.start - first, end: r.end - first }));
  }
  normalizeSpeechLevel(samples, speech);
  return { samples, speech };
}

/** Speech ranges by frame energy against the clip's own floor and loud level; short gaps are bridged. */
function energySpeech(samples: Float32Array): SampleRange[] {
  const frame = Math.round(VAD.frameSec * SAMPLE_RATE);
  const hop = Math.round(VAD.hopSec * SAMPLE_RATE);
  const db: number[] = [];
  for (let start = 0; start + frame <= samples.length; start += hop) {
    let energy = 0;
    for (let i = start; i < start + frame; i++) energy += samples[i] * samples[i];
    db.push(10 * Math.log10(energy / frame + 1e-12));
  }
  if (db.length === 0) return [];
  const sorted = [...db].sort((a, b) => a - b);
  const floor = sorted[Math.floor(0.1 * (sorted.length - 1))];
  const loud = sorted[Math.floor(0.95 * (sorted.length - 1))];
  const threshold = Math.max(floor + VAD.aboveFloorShare * (loud - floor), VAD.floorDbfs);
  // Runs of loud frames; runs too short to be a syllable (clicks, breaths) are dropped before the gaps
  // between the rest are bridged, else they would bridge a real pause.
  const runs: SampleRange[] = [];
  db.forEach((value, index) => {
    if (value < threshold) return;
    const last = runs[runs.length - 1];
    if (last && last.end === index) last.end = index + 1;
    else runs.push({ start: index, end: index + 1 });
  });
  const toSamples = (r: SampleRange): SampleRange => ({ start: r.start * hop, end: (r.end - 1) * hop + frame });
  const ranges: SampleRange[] = [];
  for (const run of runs.map(toSamples).filter((r) => r.end - r.start >= VAD.minSpeechSec * SAMPLE_RATE)) {
    const last = ranges[ranges.length - 1];
    if (last && run.start - last.end < VAD.mergeGapSec * SAMPLE_RATE) last.end = run.end;
    else ranges.push({ ...run });
  }
  const pad = Math.round(VAD.padSec * SAMPLE_RATE);
  return ranges.map((r) => ({ start: Math.max(0, r.start - pad), end: Math.min(samples.length, r.end + pad) }));
}

function normalizeSpeechLevel(samples: Float32Array, speech: SampleRange[]): void {
  let energy = 0;
  let count = 0;
  for (const r of speech) {
    for (let i = r.start; i < r.end; i++) energy += samples[i] * samples[i];
    count += r.end - r.start;
  }
  if (count === 0 || energy === 0) return;
  const scale = dbToGain(MEETING.speechRmsDbfs) / Math.sqrt(energy / count);
  for (let i = 0; i < samples.length; i++) samples[i] *= scale;
}

// ---------------------------------------------------------------------------------------------------------
// Planning: who says what when (no audio yet)

/** `length` samples of `clip` from `offset`, played at `startSample` of the meeting. */
interface Piece {
  speaker: number;
  startSample: number;
  clip: SourceClip;
  offset: number;
  length: number;
  gain: number;
}

/** Walks a speaker's material in order, a shuffled lap at a time, so consecutive turns continue the "talk". */
class MaterialCursor {
  private order: number[] = [];
  private position = 0;
  private offset = 0;

  constructor(
    private readonly speaker: Speaker,
    private readonly rng: () => number,
  ) {
    this.newLap();
  }

  get clip(): SourceClip {
    return this.speaker.clips[this.order[this.position]];
  }

  /** Samples left in the current clip; moves to the next clip (and the next lap) when it is used up. */
  available(): number {
    if (this.offset >= this.clip.samples.length) this.nextClip();
    return this.clip.samples.length - this.offset;
  }

  /** A turn should open on speech, not on the pause after the last one. */
  skipToSpeech(): void {
    const next = this.clip.speech.find((r) => r.end > this.offset);
    if (next) this.offset = Math.max(this.offset, next.start);
    else this.nextClip();
  }

  take(samples: number): { clip: SourceClip; offset: number } {
    const taken = { clip: this.clip, offset: this.offset };
    this.offset += samples;
    return taken;
  }

  private nextClip(): void {
    this.position++;
    this.offset = 0;
    if (this.position >= this.order.length) this.newLap();
  }

  private newLap(): void {
    this.order = shuffle(
      this.speaker.clips.map((_, i) => i),
      this.rng,
    );
    this.position = 0;
  }
}

/** The meeting as pieces of source audio, sorted by start. */
function planMeeting(speakers: Speaker[], numSamples: number, seed: number): Piece[] {
  const rng = seededRandom(seed * 104729 + 17);
  const normal = gaussian(rng);
  const sec = (s: number): number => Math.round(s * SAMPLE_RATE);
  const uniform = (range: readonly [number, number]): number => range[0] + rng() * (range[1] - range[0]);
  const cursors = speakers.map((s) => new MaterialCursor(s, rng));
  // Unequal shares, as in real meetings: a chair and a few quiet participants.
  const weights = speakers.map(() => Math.exp(0.6 * normal()));
  // Everyone speaks once early on, so even a short meeting holds every chosen speaker.
  const introductions = shuffle(
    speakers.map((_, i) => i),
    rng,
  );
  const pieces: Piece[] = [];
  let time = sec(uniform([0.5, 2]));
  let current = -1;
  for (let turn = 0; time < numSamples; turn++) {
    current = turn < introductions.length ? introductions[turn] : pickSpeaker(weights, current, rng);
    const turnSec = Math.min(MEETING.turnMaxSec, Math.max(MEETING.turnMinSec, MEETING.turnMedianSec * Math.exp(MEETING.turnLogSigma * normal())));
    const turnPieces = speakTurn(cursors[current], { speaker: current, gain: speakers[current].gain, startSample: time, samples: sec(turnSec) }, () =>
      sec(uniform(MEETING.intraTurnPauseSec)),
    );
    pieces.push(...turnPieces);
    const last = turnPieces[turnPieces.length - 1];
    const turnEnd = last.startSample + last.length;
    if (turnSec >= 3 && rng() < MEETING.backchannelProbability) {
      const listener = pickSpeaker(weights, current, rng);
      const at = time + Math.round((0.3 + 0.5 * rng()) * (turnEnd - time));
      pieces.push(backchannel(speakers[listener], listener, at, sec(uniform(MEETING.backchannelSec)), rng));
    }
    if (rng() < MEETING.overlapProbability) {
      time = turnEnd - sec(0.2 + rng() * (Math.min(MEETING.overlapMaxSec, 0.5 * turnSec) - 0.2));
    } else if (rng() < MEETING.longGapProbability) {
      time = turnEnd + sec(uniform(MEETING.longGapSec));
    } else {
      time = turnEnd + sec(-MEETING.pauseMeanSec * Math.log(1 - rng()));
    }
  }
  return pieces.filter((p) => p.startSample < numSamples).sort((a, b) => a.startSample - b.startSample);
}

/** One turn: material from the speaker's cursor, across source clips with a breath in between. */
function speakTurn(cursor: MaterialCursor, turn: { speaker: number; gain: number; startSample: number; samples: number }, breath: () => number): Piece[] {
  const pieces: Piece[] = [];
  let at = turn.startSample;
  let remaining = turn.samples;
  cursor.skipToSpeech();
  while (remaining > 0) {
    const length = Math.min(remaining, cursor.available());
    const { clip, offset } = cursor.take(length);
    pieces.push({ speaker: turn.speaker, gain: turn.gain, startSample: at, clip, offset, length });
    remaining -= length;
    at += length;
    if (remaining > 0) at += breath();
  }
  return pieces;
}

/** A short bit of a listener's speech from the start of one of their speech ranges ("yeah", "right"). */
function backchannel(speaker: Speaker, index: number, startSample: number, samples: number, rng: () => number): Piece {
  const clip = speaker.clips[Math.floor(rng() * speaker.clips.length)];
  const range = clip.speech[Math.floor(rng() * clip.speech.length)];
  return { speaker: index, gain: speaker.gain, startSample, clip, offset: range.start, length: Math.min(samples, range.end - range.start) };
}

/** Next speaker by participation weight, never the one who just spoke. */
function pickSpeaker(weights: number[], current: number, rng: () => number): number {
  const total = weights.reduce((sum, w, i) => sum + (i === current ? 0 : w), 0);
  let target = rng() * total;
  for (let i = 0; i < weights.length; i++) {
    if (i === current) continue;
    target -= weights[i];
    if (target <= 0) return i;
  }
  return weights.length - 1 === current ? weights.length - 2 : weights.length - 1;
}

/** The reference: each piece's speech ranges in meeting time, merged per speaker across breaths. */
function referenceTurns(pieces: Piece[], speakers: Speaker[], numSamples: number): SpeakerTurn[] {
  const bySpeaker = speakers.map((): [number, number][] => []);
  for (const piece of pieces) {
    const shift = piece.startSample - piece.offset;
    for (const r of piece.clip.speech) {
      const start = Math.max(r.start, piece.offset) + shift;
      const end = Math.min(r.end, piece.offset + piece.length, piece.clip.samples.length) + shift;
      if (end > start && start < numSamples) bySpeaker[piece.speaker].push([start, Math.min(end, numSamples)]);
    }
  }
  const turns: SpeakerTurn[] = [];
  const mergeGap = MEETING.truthMergeGapSec * SAMPLE_RATE;
  bySpeaker.forEach((ranges, index) => {
    ranges.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const [start, end] of ranges) {
      const last = merged[merged.length - 1];
      if (last && start - last[1] < mergeGap) last[1] = Math.max(last[1], end);
      else merged.push([start, end]);
    }
    for (const [start, end] of merged) turns.push({ speaker: speakers[index].id, startSec: start / SAMPLE_RATE, endSec: end / SAMPLE_RATE });
  });
  return turns.sort((a, b) => a.startSec - b.startSec);
}

// ---------------------------------------------------------------------------------------------------------
// Rendering: mix block by block and stream to disk

async function renderWav(file: string, pieces: Piece[], numSamples: number, seed: number): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.write(wavHeaderMono16(numSamples, SAMPLE_RATE));
    const noise = new PinkNoise(seed);
    const mix = new Float32Array(BLOCK_SAMPLES);
    const out = Buffer.alloc(BLOCK_SAMPLES * 2);
    const fade = Math.round(MEETING.fadeSec * SAMPLE_RATE);
    let active: Piece[] = [];
    let next = 0;
    for (let blockStart = 0; blockStart < numSamples; blockStart += BLOCK_SAMPLES) {
      const blockEnd = Math.min(numSamples, blockStart + BLOCK_SAMPLES);
      const block = mix.subarray(0, blockEnd - blockStart);
      block.fill(0);
      while (next < pieces.length && pieces[next].startSample < blockEnd) active.push(pieces[next++]);
      for (const piece of active) addPiece(block, blockStart, piece, fade);
      active = active.filter((p) => p.startSample + p.length > blockEnd);
      noise.addTo(block);
      for (let i = 0; i < block.length; i++) {
        out.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(block[i] * 32768))), 2 * i);
      }
      await handle.write(out, 0, block.length * 2);
    }
  } finally {
    await handle.close();
  }
}

/** Adds the part of `piece` that falls in the block, with a short fade at both cuts. */
function addPiece(block: Float32Array, blockStart: number, piece: Piece, fade: number): void {
  const from = Math.max(piece.startSample, blockStart);
  const to = Math.min(piece.startSample + piece.length, blockStart + block.length);
  const source = piece.clip.samples;
  for (let t = from; t < to; t++) {
    const k = t - piece.startSample;
    const envelope = Math.min(1, (k + 1) / fade, (piece.length - k) / fade);
    block[t - blockStart] += piece.gain * envelope * source[piece.offset + k];
  }
}

/** Pink-ish room noise (Paul Kellet's filter on seeded white noise), scaled to MEETING.noiseRmsDbfs. */
class PinkNoise {
  private readonly state = new Float64Array(7);
  private readonly rng: () => number;
  private readonly scale: number;

  constructor(seed: number) {
    // Measure this filter's output level on a throw-away generator, so the level is exact and seed-independent.
    const probe = new Float32Array(5 * SAMPLE_RATE);
    this.rng = seededRandom(seed ^ 0x5bd1e995);
    this.scale = 1;
    this.addTo(probe);
    const rms = Math.sqrt(probe.reduce((sum, x) => sum + x * x, 0) / probe.length);
    this.state.fill(0);
    this.rng = seededRandom(seed ^ 0x9e3779b9);
    this.scale = dbToGain(MEETING.noiseRmsDbfs) / rms;
  }

  addTo(block: Float32Array): void {
    const b = this.state;
    for (let i = 0; i < block.length; i++) {
      const white = 2 * this.rng() - 1;
      b[0] = 0.99886 * b[0] + white * 0.0555179;
      b[1] = 0.99332 * b[1] + white * 0.0750759;
      b[2] = 0.969 * b[2] + white * 0.153852;
      b[3] = 0.8665 * b[3] + white * 0.3104856;
      b[4] = 0.55 * b[4] + white * 0.5329522;
      b[5] = -0.7616 * b[5] - white * 0.016898;
      const pink = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + white * 0.5362;
      b[6] = white * 0.115926;
      block[i] += this.scale * pink;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers

function dbToGain(db: number): number {
  return 10 ** (db / 20);
}

/** Fisher–Yates on a copy. */
function shuffle<T>(items: readonly T[], rng: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Union of turns as sorted disjoint [start, end] pairs in seconds. */
function unionSec(turns: readonly SpeakerTurn[]): [number, number][] {
  const sorted = turns.map((t): [number, number] => [t.startSec, t.endSec]).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = out[out.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}

/** `a` minus `b`, both sorted disjoint. */
function subtractSec(a: [number, number][], b: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (const [start, end] of a) {
    let cursor = start;
    for (const [bStart, bEnd] of b) {
      if (bEnd <= cursor || bStart >= end) continue;
      if (bStart > cursor) out.push([cursor, bStart]);
      cursor = Math.max(cursor, bEnd);
    }
    if (cursor < end) out.push([cursor, end]);
  }
  return out;
}

/** Speech (any speaker) and overlap (2+ speakers) in seconds, by a sweep over turn boundaries. */
export function speechAndOverlap(turns: readonly SpeakerTurn[]): { speechSec: number; overlapSec: number } {
  const events = turns.flatMap((t) => [
    [t.startSec, 1],
    [t.endSec, -1],
  ]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let active = 0;
  let last = 0;
  let speechSec = 0;
  let overlapSec = 0;
  for (const [time, delta] of events) {
    if (active >= 1) speechSec += time - last;
    if (active >= 2) overlapSec += time - last;
    active += delta;
    last = time;
  }
  return { speechSec, overlapSec };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { hours: { type: 'string', default: '1' }, seed: { type: 'string', default: '1' } } });
  const meeting = await ensureSyntheticMeeting({ hours: Number(values.hours), seed: Number(values.seed), log: (line) => console.error(line) });
  console.log(
    `${meeting.wavPath}\n${meeting.rttmPath}\n${(meeting.durationSec / 3600).toFixed(3)} h, ${meeting.numSpeakers} speakers (${meeting.speakers.join(', ')}), ` +
      `${meeting.numTurns} reference turns, speech ${((100 * meeting.speechSec) / meeting.durationSec).toFixed(1)} %, overlap ${((100 * meeting.overlapSec) / meeting.durationSec).toFixed(1)} % of the audio`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
