/**
 * Clustering benchmark: prints wall time of clusterEmbeddings on synthetic meetings.
 *
 *   npx tsx server/src/clustering/bench.ts [--dim 256] [--sizes 1000,30000] [--order turns,shuffled]
 *
 * Synthetic speakers: 8 (unequal shares), noise length 1.0, so two embeddings of one speaker have
 * cosine ≈ 0.5, like real ResNet/ECAPA embeddings of short windows. 'turns' orders them in runs
 * of 5..40 windows like a conversation; 'shuffled' (no temporal continuity) is the worst case for
 * the reduction. Prints wall and CPU time (single-threaded: CPU time is the better figure on a
 * busy machine), asserts nothing.
 */
import { clusterEmbeddings, DEFAULT_CLUSTERING, type ClusteringConfig } from '../src/clustering';
import { reduceToRepresentatives } from '../src/clustering/reduce';
import { noisyGroups } from '../src/clustering/synthetic';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function purity(labels: Int32Array, truth: Int32Array): number {
  const counts = new Map<number, Map<number, number>>();
  labels.forEach((l, i) => {
    const row = counts.get(l) ?? new Map<number, number>();
    row.set(truth[i], (row.get(truth[i]) ?? 0) + 1);
    counts.set(l, row);
  });
  let agree = 0;
  for (const row of counts.values()) agree += Math.max(...row.values());
  return agree / labels.length;
}

function time<T>(fn: () => T): { value: T; ms: number; cpuMs: number } {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = fn();
  const used = process.cpuUsage(cpu);
  return { value, ms: performance.now() - start, cpuMs: (used.user + used.system) / 1000 };
}

function main(): void {
  const dim = Number(arg('dim', '256'));
  const sizes = arg('sizes', '1000,30000').split(',').map(Number);
  const shares = [0.3, 0.2, 0.15, 0.1, 0.1, 0.07, 0.05, 0.03];
  const orders = arg('order', 'turns,shuffled').split(',') as ('turns' | 'shuffled')[];
  for (const n of sizes) {
    for (const order of orders) {
      const groupSizes = shares.map((s) => Math.round(s * n));
      groupSizes[0] += n - groupSizes.reduce((a, b) => a + b, 0);
      const data = noisyGroups({ sizes: groupSizes, dim, noise: 1.0, seed: n, order });
      for (const method of ['ahc', 'spectral'] as const) {
        const config: ClusteringConfig = { ...DEFAULT_CLUSTERING, method, thresholdCosine: 0.3 };
        clusterEmbeddings({ embeddings: data.embeddings.subarray(0, 50 * dim), dim }, config); // warm-up
        const { value, ms, cpuMs } = time(() => clusterEmbeddings(data, config));
        const limit = method === 'spectral' ? Math.min(config.maxDensePoints, 1000) : config.maxDensePoints;
        const path = n > limit ? `reduced to <= ${limit}` : 'dense';
        console.log(
          `${method.padEnd(8)} N=${String(n).padStart(6)} dim=${dim} ${order.padEnd(8)} ${path.padEnd(16)} ` +
            `wall ${ms.toFixed(0).padStart(5)} ms  cpu ${cpuMs.toFixed(0).padStart(5)} ms  ` +
            `K=${value.numClusters} (truth ${shares.length}) purity=${purity(value.labels, data.truth).toFixed(3)}`,
        );
      }
      if (n > DEFAULT_CLUSTERING.maxDensePoints) {
        const max = DEFAULT_CLUSTERING.maxDensePoints;
        const { value, ms, cpuMs } = time(() => reduceToRepresentatives(data.embeddings, dim, undefined, { maxRepresentatives: max }));
        console.log(
          `  reduction alone (<= ${max}): wall ${ms.toFixed(0)} ms, cpu ${cpuMs.toFixed(0)} ms -> ` +
            `${value.weights.length} representatives (${value.novel} for novel embeddings)`,
        );
      }
    }
  }
}

main();
