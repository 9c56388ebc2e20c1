/**
 * bench:scale — the scaled-out platform (BullMQ on Redis, PostgreSQL) on this machine:
 *
 *  1. turns: `meeting(id){ turns(first: 500) … }` on an hour-long meeting under N concurrent clients,
 *     served by 1 and by 2 API processes (API_PROCESSES, node:cluster on one port), interleaved over
 *     --rounds, best round of each reported: p50/p99 and requests per second;
 *  2. jobs: --jobs diarizations of real dense speech (bench:pipeline's dense file: the dev utterances and
 *     clips back to back, --dense-minutes long; no pauses to flatter the pipeline) drained by 1 worker with
 *     ENGINE_THREADS=2 and by 2 workers with ENGINE_THREADS=1 each: jobs per hour, audio hours per
 *     hour, and per job the Redis commands, PostgreSQL rows written and object bytes the capacity model
 *     in docs/capacity.md scales up.
 *
 *   npm run bench:scale -- [--parts turns,jobs] [--clients 50] [--duration-sec 10] [--rounds 2]
 *     [--jobs 4] [--dense-minutes 6] [--database-url postgres://postgres@127.0.0.1:5432/test]
 *
 * Starts its own redis-server (free port, nothing on disk) and uses a throwaway PostgreSQL schema.
 * Prints figures and ratios, never fails on timing; writes them to .bench/scale.json.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { InvalidArgumentError } from '../src/common/errors';
import { repoRoot } from '../src/common/paths';
import { dropPostgresSchema } from '../src/store/database';
import { fixed, formatTable, lastJsonLine, machineSummary, numberArg, runTsScript, scratchDir } from './common';
import { buildDenseSpeech } from './dense-speech';
import { graphql, startServer, streamUpload, type BenchServer } from './server-process';
import type { LoadResult } from './server-load';
import { seedHourMeeting } from './server-seed';

const PARTS = ['turns', 'jobs'] as const;
type Part = (typeof PARTS)[number];
const JOB_TIMEOUT_MS = 60 * 60 * 1000;

interface Options {
  parts: Part[];
  clients: number;
  durationSec: number;
  rounds: number;
  jobs: number;
  denseMinutes: number;
  databaseUrl: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      parts: { type: 'string', default: PARTS.join(',') },
      clients: { type: 'string', default: '50' },
      'duration-sec': { type: 'string', default: '10' },
      rounds: { type: 'string', default: '2' },
      jobs: { type: 'string', default: '4' },
      'dense-minutes': { type: 'string', default: '6' },
      'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/test' },
    },
  });
  const parts = values.parts!.split(',').map((p) => p.trim());
  if (parts.some((p) => !(PARTS as readonly string[]).includes(p))) throw new InvalidArgumentError(`--parts takes ${PARTS.join(', ')}; got "${values.parts}".`);
  return {
    parts: parts as Part[],
    clients: numberArg(values.clients, '--clients', 'positive-int')!,
    durationSec: numberArg(values['duration-sec'], '--duration-sec', 'positive')!,
    rounds: numberArg(values.rounds, '--rounds', 'positive-int')!,
    jobs: numberArg(values.jobs, '--jobs', 'positive-int')!,
    denseMinutes: numberArg(values['dense-minutes'], '--dense-minutes', 'positive')!,
    databaseUrl: values['database-url']!,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A private redis-server (nothing on disk), so its command counter belongs to this bench alone. */
async function startRedis(): Promise<{ url: string; port: number; child: ChildProcess; commands(): number }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') break;
    await sleep(100);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    child,
    commands() {
      const info = spawnSync('redis-cli', ['-p', String(port), 'info', 'stats'], { encoding: 'utf8' }).stdout;
      return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? Number.NaN);
    },
  };
}

interface Deployment {
  env: Record<string, string>;
  adminToken: string;
  dataDir: string;
  databaseUrl: string;
  cleanup(): Promise<void>;
}

/** One PostgreSQL schema and one DATA_DIR shared by the API and worker processes of one configuration. */
function deployment(scratch: string, name: string, options: Options, redisUrl: string): Deployment {
  const dataDir = path.join(scratch, name);
  mkdirSync(dataDir, { recursive: true });
  const schema = `bench_scale_${process.pid}_${name}`;
  const url = new URL(options.databaseUrl);
  url.searchParams.set('schema', schema);
  const adminToken = randomBytes(24).toString('hex');
  return {
    env: { DATABASE_URL: url.toString(), REDIS_URL: redisUrl, ADMIN_TOKEN: adminToken },
    adminToken,
    dataDir,
    databaseUrl: url.toString(),
    async cleanup() {
      await dropPostgresSchema(options.databaseUrl, schema);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// 1. Turns page with 1 and 2 API processes

interface TurnsRun {
  apiProcesses: number;
  round: number;
  result: LoadResult;
}

async function benchTurns(scratch: string, options: Options, redisUrl: string): Promise<TurnsRun[]> {
  const dep = deployment(scratch, 'turns', options, redisUrl);
  try {
    // Migrate the schema and learn the model identity the speakers must carry.
    const probe = await startServer({ dataDir: dep.dataDir, env: dep.env, adminToken: dep.adminToken });
    const health = (await (await fetch(`${probe.baseUrl}/healthz`, { headers: { authorization: `Bearer ${dep.adminToken}` } })).json()) as {
      model: { name: string; hash: string; dim: number };
    };
    await probe.stop();
    const seeded = await seedHourMeeting({ dataDir: dep.dataDir, databaseUrl: dep.databaseUrl, model: health.model });
    console.log(`turns: seeded a one-hour meeting (${seeded.turns} turns, ${seeded.speakers} speakers) in PostgreSQL`);

    const runs: TurnsRun[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      for (const apiProcesses of [1, 2]) {
        const server = await startServer({ dataDir: dep.dataDir, env: { ...dep.env, API_PROCESSES: String(apiProcesses) }, adminToken: dep.adminToken });
        try {
          await waitForAllApiProcesses(server, apiProcesses);
          const run = await runTsScript('server/bench/server-load.ts', [
            ...['--url', server.baseUrl, '--token', server.adminToken, '--meeting', seeded.meetingId],
            ...['--clients', String(options.clients), '--warmup-sec', '3', '--duration-sec', String(options.durationSec)],
          ]);
          const result = lastJsonLine<LoadResult>(run.stdout);
          console.log(
            `turns: round ${round}, ${apiProcesses} API process(es): p50 ${fixed(result.latencyMs.p50, 1)} ms, p99 ${fixed(result.latencyMs.p99, 1)} ms, ${fixed(result.requestsPerSec, 0)} req/s, ${result.errors} errors`,
          );
          runs.push({ apiProcesses, round, result });
        } finally {
          await server.stop();
        }
      }
    }
    return runs;
  } finally {
    await dep.cleanup();
  }
}

/** node:cluster forks the API processes after the first banner: wait until each has printed its own. */
async function waitForAllApiProcesses(server: BenchServer, count: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((server.output().match(/meeting-diarization server on /g) ?? []).length >= count) return;
    await sleep(100);
  }
  throw new Error(`only some of ${count} API processes started:\n${server.output().slice(-2000)}`);
}

// ---------------------------------------------------------------------------------------------------------
// 2. Jobs per hour with 1 and 2 workers, on dense real speech

interface JobsRun {
  workers: number;
  engineThreads: number;
  jobs: number;
  audioSec: number;
  makespanSec: number;
  jobsPerHour: number;
  audioHoursPerHour: number;
  redisCommandsPerJob: number;
  turnRowsPerJob: number;
  objectBytesPerJob: number;
}

async function benchJobs(scratch: string, options: Options, redis: Awaited<ReturnType<typeof startRedis>>): Promise<JobsRun[]> {
  // bench:pipeline's dense speech (dev utterances and clips back to back, reshuffled and re-gained per seed).
  const dense = buildDenseSpeech({ minutes: options.denseMinutes, seed: 1, dir: scratch });
  console.log(`jobs: dense speech ${fixed(dense.durationSec / 60, 1)} min, ${dense.numSpeakers} voices; ${options.jobs} jobs per configuration`);
  const runs: JobsRun[] = [];
  // Interleaved rounds (1, 2, 1, 2 …): a busy spell on the machine hits both configurations alike.
  for (let round = 1; round <= options.rounds; round++)
    for (const workers of [1, 2]) {
      const engineThreads = workers === 1 ? 2 : 1;
      const dep = deployment(scratch, `jobs${workers}_${round}`, options, redis.url);
      const api = await startServer({ dataDir: dep.dataDir, env: dep.env, adminToken: dep.adminToken });
      const started: BenchServer[] = [];
      try {
        const uploads: string[] = [];
        const bytes = statSync(dense.wavPath).size;
        for (let i = 0; i < options.jobs; i++) {
          const upload = await streamUpload(api, { name: `dense-${i}.wav`, bytes, chunks: createReadStream(dense.wavPath) as AsyncIterable<Buffer> });
          uploads.push(upload.id);
        }
        for (let i = 0; i < workers; i++)
          started.push(
            await startServer({
              role: 'worker',
              dataDir: dep.dataDir,
              env: { ...dep.env, ENGINE_THREADS: String(engineThreads), JOB_CONCURRENCY: '1' },
              adminToken: dep.adminToken,
            }),
          );
        const objectBytesBefore = directoryBytes(dep.dataDir);
        const commandsBefore = redis.commands();
        const t0 = performance.now();
        const meetingIds: string[] = [];
        for (const uploadId of uploads) {
          const created = await graphql<{ createMeeting: { id: string } }>(
            api,
            'mutation($input: CreateMeetingInput!) { createMeeting(input: $input) { id } }',
            {
              input: { uploadId, title: 'bench: dense speech' },
            },
          );
          meetingIds.push(created.createMeeting.id);
        }
        let turns = 0;
        for (;;) {
          const page = await graphql<{ meetings: { nodes: Array<{ status: string; turns: { totalCount: number } }> } }>(
            api,
            'query { meetings(first: 100) { nodes { status turns(first: 1) { totalCount } } } }',
          );
          const done = page.meetings.nodes.filter((m) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(m.status));
          if (done.length >= meetingIds.length) {
            const failed = done.filter((m) => m.status !== 'SUCCEEDED');
            if (failed.length > 0) throw new Error(`${failed.length} job(s) did not succeed`);
            turns = done.reduce((s, m) => s + m.turns.totalCount, 0);
            break;
          }
          if (performance.now() - t0 > JOB_TIMEOUT_MS) throw new Error('the jobs did not finish within an hour');
          await sleep(500);
        }
        const makespanSec = (performance.now() - t0) / 1000;
        const run: JobsRun = {
          workers,
          engineThreads,
          jobs: meetingIds.length,
          audioSec: dense.durationSec,
          makespanSec,
          jobsPerHour: (3600 * meetingIds.length) / makespanSec,
          audioHoursPerHour: (meetingIds.length * dense.durationSec) / makespanSec,
          redisCommandsPerJob: (redis.commands() - commandsBefore) / meetingIds.length,
          turnRowsPerJob: turns / meetingIds.length,
          objectBytesPerJob: (directoryBytes(dep.dataDir) - objectBytesBefore) / meetingIds.length + bytes,
        };
        console.log(
          `jobs: round ${round}, ${workers} worker(s) × ${engineThreads} thread(s): ${run.jobs} jobs in ${fixed(makespanSec, 1)} s → ${fixed(run.jobsPerHour, 1)} jobs/h, ${fixed(run.audioHoursPerHour, 1)} audio h per h`,
        );
        runs.push(run);
      } finally {
        for (const worker of started) await worker.stop();
        await api.stop();
        await dep.cleanup();
      }
    }
  return runs;
}

/** Bytes of every file under `dir` (uploads, playable copies, peaks): what object storage would hold. */
function directoryBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseOptions();
  console.log(`bench:scale on ${machineSummary()}`);
  const scratch = scratchDir('bench-scale-');
  const redis = await startRedis();
  const report: { machine: string; turns?: TurnsRun[]; jobs?: JobsRun[] } = { machine: machineSummary() };
  try {
    if (options.parts.includes('turns')) report.turns = await benchTurns(scratch.dir, options, redis.url);
    if (options.parts.includes('jobs')) report.jobs = await benchJobs(scratch.dir, options, redis);
  } finally {
    redis.child.kill('SIGKILL');
    scratch.cleanup();
  }

  if (report.turns) {
    const best = (n: number) => report.turns!.filter((r) => r.apiProcesses === n).sort((a, b) => a.result.latencyMs.p99 - b.result.latencyMs.p99)[0].result;
    const one = best(1);
    const two = best(2);
    console.log(`\nturns(first: 500) on a one-hour meeting, ${options.clients} clients, best of ${options.rounds} interleaved rounds (target p99 < 50 ms):`);
    console.log(
      formatTable(
        ['API processes', 'p50 ms', 'p99 ms', 'req/s', 'errors'],
        [one, two].map((r, i) => [String(i + 1), fixed(r.latencyMs.p50, 1), fixed(r.latencyMs.p99, 1), fixed(r.requestsPerSec, 0), String(r.errors)]),
      ),
    );
    console.log(`2 vs 1 API process: ${fixed(two.requestsPerSec / one.requestsPerSec, 2)}× req/s, p99 ${fixed(two.latencyMs.p99 / one.latencyMs.p99, 2)}×`);
  }
  if (report.jobs) {
    const bestJobs = [1, 2].map((n) => report.jobs!.filter((r) => r.workers === n).sort((a, b) => a.makespanSec - b.makespanSec)[0]);
    console.log(
      `\nDense-speech diarization jobs (${fixed(options.denseMinutes, 1)} min each) drained by workers on BullMQ, best of ${options.rounds} interleaved rounds:`,
    );
    console.log(
      formatTable(
        ['workers × threads', 'jobs', 'makespan s', 'jobs/h', 'audio h/h', 'Redis cmds/job', 'turn rows/job', 'MB stored/job'],
        bestJobs.map((r) => [
          `${r.workers} × ${r.engineThreads}`,
          String(r.jobs),
          fixed(r.makespanSec, 1),
          fixed(r.jobsPerHour, 1),
          fixed(r.audioHoursPerHour, 2),
          fixed(r.redisCommandsPerJob, 0),
          fixed(r.turnRowsPerJob, 0),
          fixed(r.objectBytesPerJob / 1e6, 1),
        ]),
      ),
    );
    console.log(`2 workers vs 1: ${fixed(bestJobs[1].jobsPerHour / bestJobs[0].jobsPerHour, 2)}× jobs/h`);
  }
  mkdirSync(path.join(repoRoot, '.bench'), { recursive: true });
  writeFileSync(path.join(repoRoot, '.bench', 'scale.json'), JSON.stringify(report, null, 2));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
