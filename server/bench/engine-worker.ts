/**
 * The engine's side of bench:peer, mirroring sherpa-worker.ts: one process diarizes every file with one
 * Diarizer, so model loading counts once, as it does for the peer, and the peak RSS is the engine's own
 * (the ffmpeg decoder runs in a child process and is not included). Decoding is included: diarizeFile
 * decodes from disk. Prints one JSON line.
 *
 *   npx tsx server/bench/engine-worker.ts '{"files": ["a.wav"], "threads": 2, "rttmDir": "out"}'
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { DiarizationConfigInput } from '../src/diarization/config';
import { Diarizer } from '../src/diarization/pipeline';
import { writeRttm } from '../src/formats/rttm';

export interface EngineWorkerArgs {
  files: string[];
  threads: number;
  strategy?: 'windows' | 'segmentation';
  chunkStepSec?: number;
  rttmDir?: string;
}

export interface EngineWorkerResult {
  wallSec: number;
  audioSec: number;
  peakRssMb: number;
  /** Stage times summed over the files. */
  timingsSec: Record<string, number>;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2]) as EngineWorkerArgs;
  const started = performance.now();
  const config: DiarizationConfigInput = {
    threads: args.threads,
    strategy: args.strategy,
    segmentation: args.chunkStepSec !== undefined ? { chunkStepSec: args.chunkStepSec } : undefined,
  };
  const diarizer = await Diarizer.create(config);
  let audioSec = 0;
  const timingsSec: Record<string, number> = {};
  for (const file of args.files) {
    const result = await diarizer.diarizeFile(file);
    audioSec += result.durationSec;
    for (const [stage, sec] of Object.entries(result.timingsSec)) timingsSec[stage] = (timingsSec[stage] ?? 0) + sec;
    if (args.rttmDir) {
      mkdirSync(args.rttmDir, { recursive: true });
      writeFileSync(path.join(args.rttmDir, `${result.fileId}.rttm`), writeRttm(result.fileId, result.turns));
    }
  }
  await diarizer.release();
  const wallSec = (performance.now() - started) / 1000;
  const output: EngineWorkerResult = { wallSec, audioSec, peakRssMb: process.resourceUsage().maxRSS / 1024, timingsSec };
  process.stdout.write(`${JSON.stringify(output)}\n`);
}

// Only when run as a script: bench:peer imports the argument and result types.
if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  });
}
