/**
 * bench:server — the platform server against the issue's three targets, each on a fresh server in its
 * own process (`node --import tsx server/src/app/main.ts`, its own DATA_DIR in a temp folder):
 *
 *  1. upload: server RSS while a generated WAV (default 1 GiB) streams to POST /uploads (target: peak
 *     less than 100 MB above idle), and the upload's throughput;
 *  2. turns: `meeting(id){ turns(first: 500) … }` on an hour-long meeting written through the store,
 *     hammered by N concurrent clients from a load generator in its own process (target: p99 < 50 ms
 *     with 50 clients); when the target is missed (or with --profile), a second run under --cpu-prof
 *     says where the server's time goes;
 *  3. jobs: a 30-minute recording uploaded and diarized end to end (ingest + diarization) with
 *     ENGINE_THREADS and JOB_CONCURRENCY 1: seconds per job and jobs per hour on this machine.
 *
 *   npm run bench:server -- [--parts upload,turns,jobs] [--upload-mb 1024] [--clients 50] [--duration-sec 15]
 *     [--warmup-sec 3] [--engine-threads 2] [--job-minutes 30] [--database-url postgres://…] [--profile]
 *     [--server-env KEY=VALUE …]
 *
 * Prints figures and ratios, never fails on timing; writes them to .bench/server.json.
 */
import { createReadStream, mkdirSync, readdirSync, statSync } from 'node:fs';
import { copyFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { InvalidArgumentError } from '../src/common/errors';
import { repoRoot } from '../src/common/paths';
import { dropPostgresSchema } from '../src/store/database';
import { fixed, formatTable, lastJsonLine, machineSummary, numberArg, runTsScript, scratchDir } from './common';
import { cpuSeconds, generatedWav, graphql, sampleRss, startServer, streamUpload, type BenchServer, type RssSampler } from './server-process';
import type { LoadResult } from './server-load';
import { summarizeProfile, type ProfileSummary } from './server-profile';
import { seedHourMeeting } from './server-seed';
import { ensureSyntheticMeeting } from './synthetic-meeting';

const PARTS = ['upload', 'turns', 'jobs'] as const;
type Part = (typeof PARTS)[number];

const TARGET = { uploadRssAboveIdleMb: 100, turnsP99Ms: 50 } as const;
const MB = 1024 * 1024;
const JOB_TIMEOUT_MS = 30 * 60 * 1000;

interface Options {
  parts: Part[];
  uploadMb: number;
  clients: number;
  durationSec: number;
  warmupSec: number;
  engineThreads: number;
  jobMinutes: number;
  databaseUrl?: string;
  profile: boolean;
  /** Extra environment for every server (--server-env KEY=VALUE, repeatable), e.g. NODE_ENV=production. */
  serverEnv: Record<string, string>;
}

interface ModelInfo {
  name: string;
  hash: string;
  dim: number;
}

interface UploadFigures {
  bytes: number;
  idleRssMb: number;
  peakRssMb: number;
  aboveIdleMb: number;
  targetMb: number;
  seconds: number;
  throughputMBps: number;
}

interface TurnsFigures {
  turnsInMeeting: number;
  speakers: number;
  turnsPerAnswer: number;
  answerKb: number;
  concurrent: LoadResult;
  single: LoadResult;
  /** Average cores busy while the load generator ran: the server (whole process) and the generator (measured window). */
  serverCores: number;
  loadGeneratorCores: number;
  serverCpuMsPerRequest: number;
  targetP99Ms: number;
  profile?: ProfileSummary & { file: string };
}

interface JobFigures {
  audioSec: number;
  uploadSec: number;
  jobSec: number;
  /** First time each stage was seen while polling, seconds after createMeeting. */
  stages: { stage: string; atSec: number }[];
  jobsPerHour: number;
  /** Seconds of audio processed per second of wall time. */
  speedX: number;
  engineThreads: number;
  jobConcurrency: number;
  /** Server process CPU (all its threads) plus its finished children (ffmpeg), over the job's wall time. */
  serverCores: number;
  peakRssMb: number;
  speakers: number;
  turns: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      parts: { type: 'string', default: PARTS.join(',') },
      'upload-mb': { type: 'string', default: '1024' },
      clients: { type: 'string', default: '50' },
      'duration-sec': { type: 'string', default: '15' },
      'warmup-sec': { type: 'string', default: '3' },
      'engine-threads': { type: 'string', default: '2' },
      'job-minutes': { type: 'string', default: '30' },
      'database-url': { type: 'string' },
      profile: { type: 'boolean', default: false },
      'server-env': { type: 'string', multiple: true, default: [] },
    },
  });
  const serverEnv: Record<string, string> = {};
  for (const pair of values['server-env'] ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new InvalidArgumentError(`--server-env expects KEY=VALUE; got "${pair}".`);
    serverEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const parts = values
    .parts!.split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const unknown = parts.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0 || parts.length === 0)
    throw new InvalidArgumentError(`--parts takes a comma-separated list of ${PARTS.join(', ')}; got "${values.parts}".`);
  return {
    parts: parts as Part[],
    uploadMb: numberArg(values['upload-mb'], '--upload-mb', 'positive')!,
    clients: numberArg(values.clients, '--clients', 'positive-int')!,
    durationSec: numberArg(values['duration-sec'], '--duration-sec', 'positive')!,
    warmupSec: numberArg(values['warmup-sec'], '--warmup-sec', 'non-negative')!,
    engineThreads: numberArg(values['engine-threads'], '--engine-threads', 'positive-int')!,
    jobMinutes: numberArg(values['job-minutes'], '--job-minutes', 'positive')!,
    databaseUrl: values['database-url'],
    profile: values.profile ?? false,
    serverEnv,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number) => bytes / MB;

/** Where one part keeps its data: a DATA_DIR, and with --database-url a PostgreSQL schema of its own. */
interface PartStore {
  dataDir: string;
  env: Record<string, string>;
  databaseUrl?: string;
  cleanup(): Promise<void>;
}

function partStore(scratch: string, part: Part, options: Options): PartStore {
  const dataDir = path.join(scratch, part);
  mkdirSync(dataDir, { recursive: true });
  if (!options.databaseUrl) {
    return { dataDir, env: { ...options.serverEnv }, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
  }
  const schema = `bench_server_${process.pid}_${part}`;
  const url = new URL(options.databaseUrl);
  url.searchParams.set('schema', schema);
  return {
    dataDir,
    env: { ...options.serverEnv, DATABASE_URL: url.toString() },
    databaseUrl: url.toString(),
    async cleanup() {
      await dropPostgresSchema(options.databaseUrl!, schema);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The model the server runs, from /healthz's details (only a valid token gets them; without one it answers `{status}`). */
async function modelOf(server: BenchServer): Promise<ModelInfo> {
  const res = await fetch(`${server.baseUrl}/healthz`, { headers: { authorization: `Bearer ${server.adminToken}` } });
  const health = (await res.json()) as { status?: string; model?: ModelInfo };
  if (!health.model) throw new Error(`/healthz answered ${res.status} without the model details: ${JSON.stringify(health)}`);
  return health.model;
}

// ---------------------------------------------------------------------------------------------------------
// 1. Upload RSS

async function benchUpload(store: PartStore, options: Options, onModel: (model: ModelInfo) => void): Promise<UploadFigures> {
  // A whole number of 16-bit samples; the limit leaves room for the WAV header and multipart framing.
  const dataBytes = Math.floor((options.uploadMb * MB) / 2) * 2;
  const server = await startServer({
    dataDir: store.dataDir,
    env: { ...store.env, MAX_UPLOAD_MB: String(Math.ceil(options.uploadMb) + 16), JOB_CONCURRENCY: '1' },
  });
  try {
    onModel(await modelOf(server));
    // Idle: after start-up has settled, the median of 3 s of samples.
    await sleep(1000);
    const idleSampler = sampleRss(server.pid, 50);
    await sleep(3000);
    const idle = idleSampler.stop();
    const seconds = dataBytes / (16000 * 2);
    console.log(
      `upload: streaming a generated ${fixed(mb(dataBytes + 44), 0)} MiB WAV (${fixed(seconds / 3600, 1)} h of 16 kHz 16-bit mono) to POST /uploads …`,
    );
    const sampler = sampleRss(server.pid, 20);
    let upload;
    try {
      upload = await streamUpload(server, { name: 'bench-upload.wav', bytes: dataBytes + 44, chunks: generatedWav(dataBytes) });
    } finally {
      sampler.stop();
    }
    const peak = sampler.stop();
    return {
      bytes: upload.bytes,
      idleRssMb: mb(idle.medianBytes),
      peakRssMb: mb(peak.peakBytes),
      aboveIdleMb: mb(peak.peakBytes - idle.medianBytes),
      targetMb: TARGET.uploadRssAboveIdleMb,
      seconds: upload.seconds,
      throughputMBps: mb(upload.bytes) / upload.seconds,
    };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------
// 2. Turns query latency

async function runLoad(
  server: BenchServer,
  meetingId: string,
  args: { clients: number; warmupSec: number; durationSec: number },
): Promise<{ result: LoadResult; wallSec: number; serverCpuSec: number; serverPeakRssMb: number }> {
  const cpuBefore = cpuSeconds(server.pid);
  const rss = sampleRss(server.pid, 100);
  const started = performance.now();
  let run;
  try {
    run = await runTsScript('server/bench/server-load.ts', [
      '--url',
      server.baseUrl,
      '--token',
      server.adminToken,
      '--meeting',
      meetingId,
      '--clients',
      String(args.clients),
      '--warmup-sec',
      String(args.warmupSec),
      '--duration-sec',
      String(args.durationSec),
    ]);
  } finally {
    rss.stop();
  }
  const wallSec = (performance.now() - started) / 1000;
  if (server.child.exitCode !== null || server.child.signalCode !== null)
    throw new Error(`the server exited during the load run:\n${server.output().slice(-3000)}`);
  return { result: lastJsonLine<LoadResult>(run.stdout), wallSec, serverCpuSec: cpuSeconds(server.pid) - cpuBefore, serverPeakRssMb: mb(rss.stop().peakBytes) };
}

async function benchTurns(store: PartStore, options: Options, scratch: string, known: ModelInfo | undefined): Promise<TurnsFigures> {
  const env = { ...store.env, JOB_CONCURRENCY: '1' };
  let model = known;
  if (!model) {
    // The speakers must carry the server's model identity (its index is rebuilt from them at start).
    const probe = await startServer({ dataDir: store.dataDir, env });
    model = await modelOf(probe);
    await probe.stop();
  }
  const seeded = await seedHourMeeting({ dataDir: store.dataDir, databaseUrl: store.databaseUrl, model });
  console.log(`turns: seeded a one-hour meeting with ${seeded.turns} turns of ${seeded.speakers} speakers through the store`);

  let server = await startServer({ dataDir: store.dataDir, env });
  let figures: TurnsFigures;
  try {
    console.log(`turns: 1 client for 5 s (the cost of one request, no queueing) …`);
    const single = await runLoad(server, seeded.meetingId, { clients: 1, warmupSec: 1, durationSec: 5 });
    console.log(
      `turns: ${options.clients} concurrent clients, ${options.warmupSec} s warm-up then ${options.durationSec} s measured (the load generator is a separate process on the same 2 cores) …`,
    );
    const load = await runLoad(server, seeded.meetingId, { clients: options.clients, warmupSec: options.warmupSec, durationSec: options.durationSec });
    figures = {
      turnsInMeeting: seeded.turns,
      speakers: seeded.speakers,
      turnsPerAnswer: load.result.turnsPerAnswer,
      answerKb: load.result.answerBytes / 1024,
      concurrent: load.result,
      single: single.result,
      serverCores: load.serverCpuSec / load.wallSec,
      loadGeneratorCores: load.result.cpuSec / load.result.durationSec,
      serverCpuMsPerRequest: (1000 * single.serverCpuSec) / Math.max(1, single.result.requests),
      targetP99Ms: TARGET.turnsP99Ms,
    };
  } finally {
    await server.stop();
  }

  if (options.profile || !(figures.concurrent.latencyMs.p99 < TARGET.turnsP99Ms)) {
    const profDir = path.join(scratch, 'cpu-profile');
    console.log(
      `turns: p99 ${fixed(figures.concurrent.latencyMs.p99, 1)} ms${options.profile ? '' : ` misses the ${TARGET.turnsP99Ms} ms target`}; profiling the server (--cpu-prof) under the same load for 8 s …`,
    );
    server = await startServer({ dataDir: store.dataDir, env, nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
    try {
      await runLoad(server, seeded.meetingId, { clients: options.clients, warmupSec: 2, durationSec: 8 });
    } finally {
      await server.stop();
    }
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      const kept = path.join(repoRoot, '.bench', 'server-turns.cpuprofile');
      await copyFile(path.join(profDir, file), kept);
      figures.profile = { ...summarizeProfile(kept), file: path.relative(repoRoot, kept) };
    } else {
      console.log(`turns: the server wrote no profile into ${profDir}`);
    }
  }
  return figures;
}

// ---------------------------------------------------------------------------------------------------------
// 3. Jobs per hour

interface JobView {
  state: string;
  stage: string | null;
  progress: number;
  errorCode: string | null;
  errorMessage: string | null;
}

async function benchJobs(store: PartStore, options: Options): Promise<JobFigures> {
  const meeting = await ensureSyntheticMeeting({ hours: options.jobMinutes / 60, log: (line) => console.log(`jobs: ${line}`) });
  const server = await startServer({ dataDir: store.dataDir, env: { ...store.env, ENGINE_THREADS: String(options.engineThreads), JOB_CONCURRENCY: '1' } });
  try {
    const bytes = statSync(meeting.wavPath).size;
    console.log(`jobs: uploading ${path.relative(repoRoot, meeting.wavPath)} (${fixed(meeting.durationSec / 60, 1)} min, ${fixed(mb(bytes), 0)} MiB) …`);
    const upload = await streamUpload(server, {
      name: path.basename(meeting.wavPath),
      bytes,
      chunks: createReadStream(meeting.wavPath) as AsyncIterable<Buffer>,
    });

    const rss = sampleRss(server.pid, 200);
    try {
      return await runJob(server, upload, meeting.durationSec, rss, options);
    } finally {
      rss.stop();
    }
  } finally {
    await server.stop();
  }
}

async function runJob(server: BenchServer, upload: { id: string; seconds: number }, audioSec: number, rss: RssSampler, options: Options): Promise<JobFigures> {
  const cpuBefore = processAndChildrenCpu(server.pid);
  const started = performance.now();
  const created = await graphql<{ createMeeting: { id: string; latestJob: { id: string } } }>(
    server,
    'mutation($input: CreateMeetingInput!) { createMeeting(input: $input) { id latestJob { id } } }',
    { input: { uploadId: upload.id, title: 'bench: 30-minute recording' } },
  );
  const jobId = created.createMeeting.latestJob.id;
  console.log(`jobs: job ${jobId} queued; polling …`);
  const stages: { stage: string; atSec: number }[] = [];
  let job: JobView;
  let lastLine = 0;
  for (;;) {
    job = (await graphql<{ job: JobView }>(server, 'query($id: ID!) { job(id: $id) { state stage progress errorCode errorMessage } }', { id: jobId })).job;
    const atSec = (performance.now() - started) / 1000;
    const stage = job.stage ?? job.state;
    if (stages[stages.length - 1]?.stage !== stage) stages.push({ stage, atSec });
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.state)) break;
    if (atSec - lastLine >= 15) {
      lastLine = atSec;
      console.log(`jobs: ${fixed(atSec, 0)} s: ${job.state} ${job.stage ?? ''} ${fixed(100 * job.progress, 0)} %`);
    }
    if (atSec * 1000 > JOB_TIMEOUT_MS) throw new Error(`the job did not finish within ${JOB_TIMEOUT_MS / 60000} min (last: ${job.state} ${job.stage ?? ''})`);
    await sleep(250);
  }
  const jobSec = (performance.now() - started) / 1000;
  const cpuSec = processAndChildrenCpu(server.pid) - cpuBefore;
  const peak = rss.stop();
  if (job.state !== 'SUCCEEDED') throw new Error(`the job ended ${job.state}: [${job.errorCode ?? '?'}] ${job.errorMessage ?? ''}`);
  const result = await graphql<{ meeting: { speakerCount: number; turns: { totalCount: number } } }>(
    server,
    'query($id: ID!) { meeting(id: $id) { speakerCount turns(first: 1) { totalCount } } }',
    {
      id: created.createMeeting.id,
    },
  );
  return {
    audioSec,
    uploadSec: upload.seconds,
    jobSec,
    stages,
    jobsPerHour: 3600 / jobSec,
    speedX: audioSec / jobSec,
    engineThreads: options.engineThreads,
    jobConcurrency: 1,
    serverCores: cpuSec / jobSec,
    peakRssMb: mb(peak.peakBytes),
    speakers: result.meeting.speakerCount,
    turns: result.meeting.turns.totalCount,
  };
}

/** The server's CPU seconds, its threads and its waited-for children (ffmpeg) included. */
function processAndChildrenCpu(pid: number): number {
  return cpuSeconds(pid, { children: true });
}

// ---------------------------------------------------------------------------------------------------------
// Report

function report(results: { upload?: UploadFigures; turns?: TurnsFigures; jobs?: JobFigures }, options: Options): string {
  const rows: string[][] = [];
  const { upload, turns, jobs } = results;
  if (upload) {
    rows.push(['upload: server RSS idle', `${fixed(upload.idleRssMb, 1)} MiB`, '']);
    rows.push([
      `upload: peak RSS above idle (${fixed(mb(upload.bytes), 0)} MiB file)`,
      `${fixed(upload.aboveIdleMb, 1)} MiB`,
      `< ${upload.targetMb} MB: ${upload.aboveIdleMb * MB < upload.targetMb * 1e6 ? 'met' : 'MISSED'}`,
    ]);
    rows.push(['upload: throughput', `${fixed(upload.throughputMBps, 0)} MiB/s`, `${fixed(upload.seconds, 1)} s`]);
  }
  if (turns) {
    const c = turns.concurrent;
    rows.push([
      `turns(first: 500), ${c.clients} clients: p50 / p95 / p99`,
      `${fixed(c.latencyMs.p50, 1)} / ${fixed(c.latencyMs.p95, 1)} / ${fixed(c.latencyMs.p99, 1)} ms`,
      `p99 < ${turns.targetP99Ms} ms: ${c.latencyMs.p99 < turns.targetP99Ms ? 'met' : `MISSED (×${fixed(c.latencyMs.p99 / turns.targetP99Ms, 1)})`}`,
    ]);
    rows.push([`turns(first: 500), ${c.clients} clients: throughput`, `${fixed(c.requestsPerSec, 0)} req/s`, `${c.requests} requests, ${c.errors} errors`]);
    rows.push([
      'turns(first: 500), 1 client: p50 / p99',
      `${fixed(turns.single.latencyMs.p50, 1)} / ${fixed(turns.single.latencyMs.p99, 1)} ms`,
      `${fixed(turns.single.requestsPerSec, 0)} req/s`,
    ]);
    rows.push([
      'turns: server CPU per request',
      `${fixed(turns.serverCpuMsPerRequest, 2)} ms`,
      `${turns.turnsPerAnswer} turns, ${fixed(turns.answerKb, 0)} KiB per answer`,
    ]);
    rows.push([
      'turns: cores used (server / load generator)',
      `${fixed(turns.serverCores, 2)} / ${fixed(turns.loadGeneratorCores, 2)}`,
      `of ${os.cpus().length}, shared`,
    ]);
  }
  if (jobs) {
    rows.push([`jobs: ${fixed(jobs.audioSec / 60, 0)}-min recording, end to end`, `${fixed(jobs.jobSec, 1)} s/job`, `${fixed(jobs.speedX, 1)}× real time`]);
    rows.push([
      'jobs: per hour on this machine',
      `${fixed(jobs.jobsPerHour, 1)}`,
      `ENGINE_THREADS ${jobs.engineThreads}, JOB_CONCURRENCY ${jobs.jobConcurrency}`,
    ]);
    const stageTimes = jobs.stages.slice(0, -1).map((s, i) => `${s.stage} ${fixed(jobs.stages[i + 1].atSec - s.atSec, 1)} s`);
    rows.push(['jobs: stages as polled every 250 ms', stageTimes.join(', '), '']);
    rows.push(['jobs: upload of the recording', `${fixed(jobs.uploadSec, 1)} s`, 'not in s/job']);
    rows.push([
      'jobs: cores used during the job / peak RSS',
      `${fixed(jobs.serverCores, 2)} / ${fixed(jobs.peakRssMb, 0)} MiB`,
      `${jobs.speakers} speakers, ${jobs.turns} turns`,
    ]);
  }
  const store = options.databaseUrl ? 'PostgreSQL' : 'SQLite (embedded default)';
  return `${formatTable(['figure', 'value', 'note'], rows)}\nstore: ${store}`;
}

function printProfile(profile: TurnsFigures['profile']): void {
  if (!profile) return;
  const list = (entries: { name: string; percent: number }[]) => entries.map((e) => `  ${fixed(e.percent, 1).padStart(5)} %  ${e.name}`).join('\n');
  console.log(
    `\nServer CPU profile under load (${fixed(profile.totalSec, 1)} s, main thread idle ${fixed(profile.idlePercent, 1)} %; open ${profile.file} in Chrome DevTools for the full tree)`,
  );
  console.log(`self time by package / folder:\n${list(profile.byPackage)}`);
  console.log(`self time by function:\n${list(profile.selfTop)}`);
  console.log(`inclusive time by function:\n${list(profile.inclusiveTop)}`);
}

async function main(): Promise<void> {
  const options = parseOptions();
  console.log(machineSummary());
  const extraEnv = Object.entries(options.serverEnv)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  console.log(
    `bench:server parts ${options.parts.join(', ')}; store ${options.databaseUrl ? 'PostgreSQL' : 'SQLite'}; every part starts its own server process${extraEnv ? ` with ${extraEnv}` : ''}`,
  );
  const scratch = scratchDir('bench-server');
  const results: { upload?: UploadFigures; turns?: TurnsFigures; jobs?: JobFigures } = {};
  let model: ModelInfo | undefined;
  try {
    mkdirSync(path.join(repoRoot, '.bench'), { recursive: true });
    for (const part of options.parts) {
      const store = partStore(scratch.dir, part, options);
      try {
        if (part === 'upload') results.upload = await benchUpload(store, options, (m) => (model = m));
        if (part === 'turns') {
          results.turns = await benchTurns(store, options, scratch.dir, model);
          printProfile(results.turns.profile);
        }
        if (part === 'jobs') results.jobs = await benchJobs(store, options);
        console.log(`${report({ [part]: results[part] }, options)}\n`);
      } finally {
        await store.cleanup();
      }
    }
  } finally {
    scratch.cleanup();
  }

  console.log(`\n${report(results, options)}`);
  if (results.turns) {
    console.log(
      `The load generator runs in its own process but shares the machine's ${os.cpus().length} cores with the server (and with anything else running: see the load average above). ` +
        `With ${options.clients} closed-loop clients, latency ≈ clients / throughput, so p99 < ${TARGET.turnsP99Ms} ms needs about ${fixed((1000 * options.clients) / TARGET.turnsP99Ms, 0)} requests/s.`,
    );
  }
  const out = path.join(repoRoot, '.bench', 'server.json');
  await writeFile(out, `${JSON.stringify({ machine: machineSummary(), at: new Date().toISOString(), options, ...results }, null, 2)}\n`);
  console.log(`figures written to ${path.relative(process.cwd(), out) || out}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
