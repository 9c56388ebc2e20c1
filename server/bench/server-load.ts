/**
 * bench:server's load generator, run in its own process: `clients` concurrent loops, each sending the
 * next request as soon as its previous answer has been read (closed loop), over keep-alive connections.
 * Prints one JSON line with latency percentiles, requests/s and its own CPU time.
 *
 *   node --import tsx server/bench/server-load.ts --url http://127.0.0.1:4000 --token T --meeting ID \
 *     [--clients 50] [--warmup-sec 3] [--duration-sec 15] [--first 500]
 */
import http from 'node:http';
import { parseArgs } from 'node:util';

import { numberArg } from './common';

export interface LoadResult {
  clients: number;
  durationSec: number;
  requests: number;
  errors: number;
  /** First error seen, for the report. */
  firstError?: string;
  requestsPerSec: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
  /** Turns in one answer (checked once, on the first answer). */
  turnsPerAnswer: number;
  answerBytes: number;
  /** CPU seconds this load generator used while measuring (user + system). */
  cpuSec: number;
}

export const TURNS_QUERY = 'query Turns($id: ID!, $first: Int) { meeting(id: $id) { turns(first: $first) { nodes { id start end speaker { id label } } } } }';

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function post(agent: http.Agent, url: URL, token: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      meeting: { type: 'string' },
      clients: { type: 'string', default: '50' },
      'warmup-sec': { type: 'string', default: '3' },
      'duration-sec': { type: 'string', default: '15' },
      first: { type: 'string', default: '500' },
    },
  });
  if (!values.url || !values.token || !values.meeting) throw new Error('--url, --token and --meeting are required');
  const clients = numberArg(values.clients, '--clients', 'positive-int')!;
  const warmupSec = numberArg(values['warmup-sec'], '--warmup-sec', 'non-negative')!;
  const durationSec = numberArg(values['duration-sec'], '--duration-sec', 'positive')!;
  const first = numberArg(values.first, '--first', 'positive-int')!;
  const url = new URL('/graphql', values.url);
  const body = JSON.stringify({ query: TURNS_QUERY, variables: { id: values.meeting, first } });
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });

  // One checked answer first: the figures mean nothing if the query fails or returns no turns.
  const check = await post(agent, url, values.token, body);
  const parsed = JSON.parse(check.text) as { data?: { meeting?: { turns: { nodes: unknown[] } } }; errors?: unknown };
  const nodes = parsed.data?.meeting?.turns.nodes;
  if (check.status !== 200 || parsed.errors || !nodes) throw new Error(`the turns query failed (HTTP ${check.status}): ${check.text.slice(0, 500)}`);

  const latencies: number[] = [];
  let errors = 0;
  let completedInWindow = 0;
  let firstError: string | undefined;
  let stopped = false;
  let cpuAtStart = process.cpuUsage();
  let windowStart = Number.POSITIVE_INFINITY;
  const client = async () => {
    while (!stopped) {
      const started = performance.now();
      // Only requests sent inside the window count: the first ones of a cold server queue behind each other.
      const counted = started >= windowStart;
      let failed: string | undefined;
      try {
        const answer = await post(agent, url, values.token!, body);
        // A cheap check per answer; the full parse was done once above.
        if (answer.status !== 200 || answer.text.startsWith('{"errors"') || answer.text.length !== check.text.length)
          failed = `HTTP ${answer.status}: ${answer.text.slice(0, 300)}`;
      } catch (error) {
        failed = error instanceof Error ? error.message : String(error);
      }
      // Answers still in flight at the end are waited for and counted, so slow ones are not censored.
      if (!counted) continue;
      if (!stopped) completedInWindow++;
      latencies.push(performance.now() - started);
      if (failed) {
        errors++;
        firstError ??= failed;
      }
    }
  };
  const loops = Array.from({ length: clients }, client);
  await new Promise((resolve) => setTimeout(resolve, warmupSec * 1000));
  cpuAtStart = process.cpuUsage();
  const started = performance.now();
  windowStart = started;
  await new Promise((resolve) => setTimeout(resolve, durationSec * 1000));
  stopped = true;
  const elapsedSec = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  await Promise.all(loops);
  agent.destroy();

  const sorted = [...latencies].sort((a, b) => a - b);
  const result: LoadResult = {
    clients,
    durationSec: elapsedSec,
    requests: latencies.length,
    errors,
    ...(firstError ? { firstError } : {}),
    requestsPerSec: completedInWindow / elapsedSec,
    latencyMs: {
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? Number.NaN,
      mean: sorted.reduce((sum, x) => sum + x, 0) / Math.max(1, sorted.length),
    },
    turnsPerAnswer: nodes.length,
    answerBytes: Buffer.byteLength(check.text),
    cpuSec: (cpu.user + cpu.system) / 1e6,
  };
  console.log(JSON.stringify(result));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
