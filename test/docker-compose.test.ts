/**
 * The root docker-compose.yml is checked by docker-compose itself (no container engine runs here, so
 * it is validated, not started): `config -q` must accept it, and the resolved configuration must hold
 * the services, health checks and volumes the deployment relies on.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const composeFile = path.join(root, 'docker-compose.yml');

interface HealthCheck {
  test: string[];
  interval?: string;
}
interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  environment?: Record<string, string>;
  healthcheck?: HealthCheck;
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
}
interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** docker-compose with the repository as working directory and no stray overrides from the caller. */
function compose(args: string[]) {
  const env = { ...process.env };
  for (const name of [
    'SERVER_PORT',
    'POSTGRES_PASSWORD',
    'MODELS_HOST_DIR',
    'JOB_CONCURRENCY',
    'ENGINE_THREADS',
    'MAX_UPLOAD_MB',
    'CORS_ORIGINS',
    'COMPOSE_FILE',
    'COMPOSE_PROJECT_NAME',
  ])
    delete env[name];
  return spawnSync('docker-compose', ['-f', composeFile, ...args], { cwd: root, env, encoding: 'utf8' });
}

const available = !compose(['version']).error;
if (!available) {
  console.warn('test/docker-compose.test.ts skipped: docker-compose is not installed (Debian: apt-get install -y docker-compose).');
}

/** The resolved configuration as JSON, via PyYAML: docker-compose 1.x is a Python program that ships with it. */
function resolvedConfig(): ComposeConfig {
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

(available ? describe : describe.skip)('docker-compose.yml', () => {
  it('is valid for docker-compose config -q', () => {
    const result = compose(['config', '-q']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('runs the server on PostgreSQL with health checks, named volumes and read-only models', () => {
    const config = resolvedConfig();
    expect(Object.keys(config.services).sort()).toEqual(['postgres', 'server']);
    expect(Object.keys(config.volumes ?? {}).sort()).toEqual(['postgres-data', 'server-data']);

    const postgres = config.services.postgres;
    expect(postgres.image).toBe('postgres:15');
    expect(postgres.healthcheck?.test.join(' ')).toMatch(/pg_isready/);
    expect(postgres.volumes).toContain('postgres-data:/var/lib/postgresql/data:rw');

    const server = config.services.server;
    expect(server.build?.dockerfile).toBe('Dockerfile');
    expect(path.resolve(server.build!.context)).toBe(root);
    expect(server.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    const env = server.environment ?? {};
    expect(env.HOST).toBe('0.0.0.0');
    expect(env.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\/\w+$/);
    expect(env.DATA_DIR).toBe('/data');
    expect(env.MODELS_DIR).toBe('/models');
    expect(server.volumes).toContain('server-data:/data:rw');
    expect(server.volumes?.some((v) => v.endsWith(':/models:ro'))).toBe(true);
    expect(server.healthcheck?.test.join(' ')).toMatch(/\/healthz/);
  });

  it('builds from a Dockerfile that installs ffmpeg and runs npm run serve', () => {
    const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20\b/m);
    expect(dockerfile).toMatch(/apt-get install[^\n]*\bffmpeg\b/);
    expect(dockerfile).toMatch(/npm ci\b/);
    expect(dockerfile).toMatch(/^CMD \["npm", "run", "serve"\]$/m);
  });
});
