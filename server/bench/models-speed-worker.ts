/**
 * One model, one thread count, in a process of its own: load, then single-window latency (median of 30)
 * and batched throughput (32 windows per call, best of 5); prints one JSON line with the peak RSS.
 */
import { loadModel } from '../src/inference/onnx-session';

async function main(): Promise<void> {
  const [modelPath, threadsArg, framesArg] = process.argv.slice(2);
  const threads = Number(threadsArg);
  const frames = Number(framesArg);
  const model = await loadModel(modelPath, { intraOpThreads: threads, executionProviders: ['cpu'], log: () => undefined });
  const input = (n: number) => Float32Array.from({ length: n * frames * 80 }, (_, i) => Math.sin(i * 0.37) * 2 - 6); // [n, frames, 80]
  for (let i = 0; i < 3; i++) await model.run(input(1), [1, frames, 80]);
  const single: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await model.run(input(1), [1, frames, 80]);
    single.push(performance.now() - t);
  }
  single.sort((a, b) => a - b);
  const batch = 32;
  await model.run(input(batch), [batch, frames, 80]);
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const data = input(batch);
    const t = performance.now();
    await model.run(data, [batch, frames, 80]);
    best = Math.min(best, performance.now() - t);
  }
  await model.release();
  process.stdout.write(
    `${JSON.stringify({ latencyMs: single[15], windowsPerSec: (batch * 1000) / best, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 1;
});
