/**
 * The peer: sherpa-onnx-node's OfflineSpeakerDiarization on the same model files. Run as a child
 * process by bench:peer (one engine per process, so peak RSS is its own). Prints one JSON line.
 * sherpa-onnx reads 16 kHz PCM WAV only; bench:peer converts other inputs first.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { resolveEmbeddingModel, resolveSegmentationModel } from '../src/models/resolve';
import { writeRttm } from '../src/formats/rttm';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const sherpa = require('sherpa-onnx-node');

export interface PeerArgs {
  files: string[];
  threads: number;
  threshold: number;
  minDurationOn: number;
  minDurationOff: number;
  rttmDir?: string;
}

export interface PeerResult {
  wallSec: number;
  audioSec: number;
  peakRssMb: number;
}

function main(): void {
  const args = JSON.parse(process.argv[2]) as PeerArgs;
  const started = performance.now();
  const sd = new sherpa.OfflineSpeakerDiarization({
    segmentation: { pyannote: { model: resolveSegmentationModel().path }, numThreads: args.threads, debug: 0 },
    embedding: { model: resolveEmbeddingModel('ge2e-resemblyzer-fbank80').path, numThreads: args.threads, debug: 0 },
    clustering: { numClusters: -1, threshold: args.threshold },
    minDurationOn: args.minDurationOn,
    minDurationOff: args.minDurationOff,
  });
  let audioSec = 0;
  for (const file of args.files) {
    const wave = sherpa.readWave(file);
    audioSec += wave.samples.length / wave.sampleRate;
    const segments: { start: number; end: number; speaker: number }[] = sd.process(wave.samples);
    if (args.rttmDir) {
      mkdirSync(args.rttmDir, { recursive: true });
      const fileId = path.basename(file, path.extname(file));
      const turns = segments.map((s) => ({ speaker: `spk${s.speaker}`, startSec: s.start, endSec: s.end }));
      writeFileSync(path.join(args.rttmDir, `${fileId}.rttm`), writeRttm(fileId, turns));
    }
  }
  const wallSec = (performance.now() - started) / 1000;
  const result: PeerResult = { wallSec, audioSec, peakRssMb: process.resourceUsage().maxRSS / 1024 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

// Only when run as a script: bench:peer imports the argument and result types.
if (require.main === module) main();
