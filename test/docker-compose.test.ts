/**
 * The root docker-compose.yml is checked by docker-compose itself (no container engine runs here, so
 * it is validated, not started): `config -q` must accept it (and refuse it without ADMIN_TOKEN), and the
 * resolved configuration must hold the services, replicas, health checks, volumes and ports the
 * scaled-out deployment relies on. deploy/nginx.conf, the proxy in front of the API replicas, is parsed
 * into directives and checked for what the browser needs through it (graphql-ws upgrades, streamed uploads).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { loadServerConfig } from '../server/src/config/server-config';

const root = path.resolve(__dirname, '..');
const composeFile = path.join(root, 'docker-compose.yml');
/** A made-up token for the test's environment: `config` prints it back where the processes get it. */
const ADMIN_TOKEN = 'compose-test-token-0123456789';

interface HealthCheck {
  test: string[];
  interval?: string;
}
type PortMapping = string | { published?: number | string; target: number | string };
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  command?: string[];
  deploy?: { replicas?: number };
  environment?: Record<string, string>;
  healthcheck?: HealthCheck;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: PortMapping[];
}
interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** docker-compose with the repository as working directory and no stray overrides from the caller. */
function compose(args: string[], extraEnv: Record<string, string> = { ADMIN_TOKEN }) {
  const env = { ...process.env };
  for (const name of [
    'ADMIN_TOKEN',
    'POSTGRES_PASSWORD',
    'MINIO_ROOT_USER',
    'MINIO_ROOT_PASSWORD',
    'MODELS_HOST_DIR',
    'JOB_CONCURRENCY',
    'ENGINE_THREADS',
    'MAX_UPLOAD_MB',
    'CORS_ORIGINS',
    'COMPOSE_FILE',
    'COMPOSE_PROJECT_NAME',
  ])
    delete env[name];
  return spawnSync('docker-compose', ['-f', composeFile, ...args], { cwd: root, env: { ...env, ...extraEnv }, encoding: 'utf8' });
}

const available = !compose(['version']).error;
if (!available) {
  console.warn('test/docker-compose.test.ts skipped: docker-compose is not installed (Debian: apt-get install -y docker-compose).');
}

/** The resolved configuration as JSON, via PyYAML: docker-compose 1.x is a Python program that ships with it. */
let resolved: ComposeConfig | undefined;
function resolvedConfig(): ComposeConfig {
  resolved ??= resolveConfig();
  return resolved;
}
function resolveConfig(): ComposeConfig {
  const yaml = compose(['config']);
  expect(yaml.stderr).toBe('');
  expect(yaml.status).toBe(0);
  const json = spawnSync('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], {
    input: yaml.stdout,
    encoding: 'utf8',
  });
  if (json.status !== 0)
    throw new Error(
      `could not parse the output of docker-compose config with python3 + PyYAML (installed with docker-compose): ${json.stderr || json.error?.message}`,
    );
  return JSON.parse(json.stdout) as ComposeConfig;
}

/** One nginx directive: `name args...;` or `name args... { block }`. */
interface Directive {
  name: string;
  args: string[];
  block?: Directive[];
}

/** nginx's configuration syntax: words and quoted strings, `;`-terminated, `{}` blocks, `#` comments. */
function parseNginx(text: string): Directive[] {
  const tokens = [...text.matchAll(/#[^\n]*|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([{};])|([^\s{};'"#]+)/g)]
    .filter((m) => !m[0].startsWith('#'))
    .map((m) => (m[3] ? { punct: m[3] } : { word: m[1] ?? m[2] ?? m[4]! }));
  let at = 0;
  const parseBlock = (nested: boolean): Directive[] => {
    const out: Directive[] = [];
    while (at < tokens.length) {
      const first = tokens[at++]!;
      if (first.punct === '}') {
        if (!nested) throw new Error('deploy/nginx.conf: unbalanced "}"');
        return out;
      }
      if (first.punct) throw new Error(`deploy/nginx.conf: unexpected "${first.punct}"`);
      const directive: Directive = { name: first.word!, args: [] };
      for (;;) {
        const next = tokens[at++];
        if (!next) throw new Error(`deploy/nginx.conf: "${directive.name}" is not terminated`);
        if (next.punct === ';') break;
        if (next.punct === '{') {
          directive.block = parseBlock(true);
          break;
        }
        if (next.punct === '}') throw new Error(`deploy/nginx.conf: "${directive.name}" lacks its ";"`);
        directive.args.push(next.word!);
      }
      out.push(directive);
    }
    if (nested) throw new Error('deploy/nginx.conf: a block is not closed');
    return out;
  };
  return parseBlock(false);
}

const find = (directives: Directive[] | undefined, name: string, ...args: string[]): Directive | undefined =>
  directives?.find((d) => d.name === name && args.every((a, i) => d.args[i] === a));
const values = (directives: Directive[] | undefined, name: string): string[][] => (directives ?? []).filter((d) => d.name === name).map((d) => d.args);

/** nginx size (`22m`, `2059m`, `1g`, bytes) in MiB. */
function sizeMb(size: string): number {
  const match = /^(\d+)([kmg]?)$/i.exec(size);
  if (!match) throw new Error(`not an nginx size: ${size}`);
  const factor = { '': 1 / (1024 * 1024), k: 1 / 1024, m: 1, g: 1024 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(match[1]) * factor;
}

const containerPort = (p: PortMapping): number => Number(typeof p === 'string' ? p.split(':').pop()!.split('/')[0] : p.target);
const publishedPort = (p: PortMapping): number => Number(typeof p === 'string' ? p.split(':').slice(-2)[0] : p.published);

(available ? describe : describe.skip)('docker-compose.yml', () => {
  it('is valid for docker-compose config -q with ADMIN_TOKEN set', () => {
    const result = compose(['config', '-q']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('refuses to resolve without ADMIN_TOKEN and says how to set one', () => {
    const result = compose(['config', '-q'], {});
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/set ADMIN_TOKEN to one secret of 16\+ characters/);
    expect(result.stderr).toMatch(/export ADMIN_TOKEN=/);
    expect(result.stderr).not.toMatch(/Traceback/);
  });

  it('runs postgres, redis, minio (+ bucket), 2 API replicas, 2 workers, the proxy and the web app on named volumes', () => {
    const config = resolvedConfig();
    expect(Object.keys(config.services).sort()).toEqual(['api', 'minio', 'minio-init', 'postgres', 'proxy', 'redis', 'web', 'worker']);
    expect(Object.keys(config.volumes ?? {}).sort()).toEqual(['minio-data', 'postgres-data', 'redis-data']);
    const { postgres, redis, minio, api, worker } = config.services;

    expect(postgres!.image).toBe('postgres:15');
    expect(postgres!.healthcheck?.test.join(' ')).toMatch(/pg_isready/);
    expect(postgres!.volumes).toContain('postgres-data:/var/lib/postgresql/data:rw');
    expect(redis!.healthcheck?.test.join(' ')).toMatch(/redis-cli ping/);
    expect(redis!.volumes).toContain('redis-data:/data:rw');
    expect(minio!.image).toMatch(/^minio\/minio:/);
    expect(minio!.healthcheck?.test.length).toBeGreaterThan(0);
    expect(minio!.volumes).toContain('minio-data:/data:rw');

    // One image for both roles, built from the root Dockerfile; the role is the command.
    for (const [service, command] of [
      [api!, 'serve'],
      [worker!, 'worker'],
    ] as const) {
      expect(service.build?.dockerfile).toBe('Dockerfile');
      expect(path.resolve(service.build!.context)).toBe(root);
      expect(service.command).toEqual(['npm', 'run', command]);
      expect(service.deploy?.replicas).toBe(2);
      expect(service.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        'minio-init': { condition: 'service_completed_successfully' },
      });
    }
    expect(worker!.image).toBe(api!.image);
  });

  it('gives API replicas and workers one database, queue, bucket and admin token, health checks and read-only models', () => {
    const config = resolvedConfig();
    const { api, worker, minio } = config.services;
    const minioInit = config.services['minio-init']!;
    for (const service of [api!, worker!]) {
      const env = service.environment ?? {};
      expect(env.REDIS_URL).toBe('redis://redis:6379');
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\/\w+$/);
      expect(env.ADMIN_TOKEN).toBe(ADMIN_TOKEN);
      expect(env.STORAGE_URL).toMatch(/^s3:\/\/[a-z0-9.-]+$/);
      expect(env.AWS_ENDPOINT_URL).toBe('http://minio:9000');
      expect(env.AWS_ACCESS_KEY_ID).toBe(minio!.environment?.MINIO_ROOT_USER);
      expect(env.AWS_SECRET_ACCESS_KEY).toBe(minio!.environment?.MINIO_ROOT_PASSWORD);
      expect(env.MODELS_DIR).toBe('/models');
      expect(service.volumes?.some((v) => v.endsWith(':/models:ro'))).toBe(true);
      expect(service.volumes?.every((v) => v.endsWith(':ro'))).toBe(true);
      // The healthcheck asks the port the process listens on.
      expect(service.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${env.PORT}/healthz`);
      // Every process must accept the configuration it is given.
      expect(() => loadServerConfig(env)).not.toThrow();
    }
    // The one-shot service makes the bucket STORAGE_URL names, with the credentials MinIO was started with.
    const bucket = api!.environment!.STORAGE_URL!.slice('s3://'.length);
    expect(minioInit.command?.join(' ')).toContain(`mc mb --ignore-existing local/${bucket}`);
    expect(minioInit.depends_on).toEqual({ minio: { condition: 'service_healthy' } });
  });

  it('publishes only the proxy and the web app, never a metrics port', () => {
    const config = resolvedConfig();
    const metricsPort = Number(config.services.api!.environment?.METRICS_PORT);
    expect(metricsPort).toBeGreaterThan(0);
    const published = Object.entries(config.services)
      .filter(([, s]) => (s.ports ?? []).length > 0)
      .map(([name]) => name)
      .sort();
    expect(published).toEqual(['proxy', 'web']);
    for (const service of Object.values(config.services)) {
      for (const port of service.ports ?? []) {
        expect(containerPort(port)).not.toBe(metricsPort);
        expect(publishedPort(port)).not.toBe(metricsPort);
      }
    }
  });

  it('puts nginx in front of the API replicas, passing WebSocket upgrades on /graphql and streaming /uploads', () => {
    const config = resolvedConfig();
    const { proxy, api, web } = config.services;
    expect(proxy!.image).toMatch(/^nginx:/);
    expect(proxy!.volumes).toContain(`${path.join(root, 'deploy', 'nginx.conf')}:/etc/nginx/nginx.conf:ro`);
    expect(proxy!.depends_on).toEqual({ api: { condition: 'service_healthy' } });

    const nginx = parseNginx(readFileSync(path.join(root, 'deploy', 'nginx.conf'), 'utf8'));
    const http = find(nginx, 'http')?.block;
    const upstream = find(http, 'upstream', 'api')?.block;
    expect(values(upstream, 'server').map((args) => args[0])).toEqual([`api:${api!.environment!.PORT}`]);
    // The map that turns an Upgrade request into Connection: upgrade.
    const map = find(http, 'map', '$http_upgrade', '$connection_upgrade')?.block;
    expect(map && values(map, 'default')).toEqual([['upgrade']]);

    const server = find(http, 'server')?.block;
    const [listen] = values(server, 'listen');
    const proxyPort = Number(listen![0]);
    expect(proxy!.ports?.map(containerPort)).toEqual([proxyPort]);
    // The web app reaches the API through the proxy and sends the browser's graphql-ws to the same port.
    expect(web!.environment?.API_HOST).toBe('proxy');
    expect(Number(web!.environment?.API_PORT)).toBe(proxyPort);
    expect(proxy!.ports?.map(publishedPort)).toEqual([proxyPort]);

    for (const location of ['/graphql', '/uploads', '/media']) {
      const block = find(server, 'location', location)?.block;
      expect({ location, proxyPass: values(block, 'proxy_pass') }).toEqual({ location, proxyPass: [['http://api']] });
    }
    expect(values(find(server, 'location', '=', '/healthz')?.block, 'proxy_pass')).toEqual([['http://api']]);

    const graphql = find(server, 'location', '/graphql')?.block;
    expect(values(graphql, 'proxy_http_version')).toEqual([['1.1']]);
    expect(values(graphql, 'proxy_set_header')).toEqual(
      expect.arrayContaining([
        ['Upgrade', '$http_upgrade'],
        ['Connection', '$connection_upgrade'],
      ]),
    );

    // Uploads up to the API's own limit reach the API (which answers oversize with its own message), streamed.
    const uploads = find(server, 'location', '/uploads')?.block;
    const maxUploadMb = loadServerConfig({}).maxUploadBytes / (1024 * 1024);
    expect(Number(api!.environment?.MAX_UPLOAD_MB)).toBe(maxUploadMb);
    const [bodyLimit] = values(uploads, 'client_max_body_size');
    expect(sizeMb(bodyLimit![0]!)).toBeGreaterThanOrEqual(maxUploadMb);
    expect(sizeMb(bodyLimit![0]!)).toBeLessThanOrEqual(maxUploadMb + 64);
    expect(values(uploads, 'proxy_request_buffering')).toEqual([['off']]);

    // The API replicas trust one hop, and every proxied location appends the client's address for them.
    expect(loadServerConfig(api!.environment ?? {}).trustProxy).toBe(1);
    for (const block of [
      ...['/graphql', '/uploads', '/media'].map((l) => find(server, 'location', l)?.block),
      find(server, 'location', '=', '/healthz')?.block,
    ])
      expect(values(block, 'proxy_set_header')).toContainEqual(['X-Forwarded-For', '$proxy_add_x_forwarded_for']);
  });

  it('builds the web app from web/Dockerfile and the server from a Dockerfile that installs ffmpeg', () => {
    const config = resolvedConfig();
    const web = config.services.web!;
    expect(web.build?.dockerfile).toBe('web/Dockerfile');
    expect(path.resolve(web.build!.context)).toBe(root);
    const webDockerfile = readFileSync(path.join(root, 'web', 'Dockerfile'), 'utf8');
    expect(webDockerfile).toMatch(/^FROM node:20\b/m);
    expect(webDockerfile).toMatch(/npm run build -w web/);
    expect(webDockerfile).toMatch(/^CMD \["npm", "run", "start", "-w", "web"\]$/m);

    const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20\b/m);
    expect(dockerfile).toMatch(/apt-get install[^\n]*\bffmpeg\b/);
    expect(dockerfile).toMatch(/npm ci\b/);
    expect(dockerfile).toMatch(/^CMD \["npm", "run", "serve"\]$/m);
  });
});
