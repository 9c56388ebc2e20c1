import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command } from 'commander';

import { InvalidArgumentError, ModelMismatchError, ModelMissingError } from '../common/errors';
import { loadManifest } from '../models/manifest';
import { modelCacheDir } from '../models/resolve';
import { log, runCli } from './common';
import { sha256File } from '../common/sha256';

const program = new Command('models:fetch')
  .description('Download an official model export into the local model cache and verify its sha256.')
  .argument('<name>', 'embedding model name from models/manifest.json (e.g. campplus-en-voxceleb)')
  .option('--timeout <sec>', 'give up connecting after this many seconds', Number, 20);

async function main(): Promise<void> {
  program.parse();
  const [name] = program.args;
  const { timeout } = program.opts<{ timeout: number }>();
  const manifest = loadManifest();
  const entry = manifest.embedding[name];
  if (!entry)
    throw new InvalidArgumentError(
      `Unknown model "${name}". Fetchable: ${Object.entries(manifest.embedding)
        .filter(([, e]) => e.url)
        .map(([n]) => n)
        .join(', ')}.`,
    );
  if (!entry.url) throw new InvalidArgumentError(`Model "${name}" has no download address; see models/README.md for how to obtain it.`);
  const dir = modelCacheDir();
  const target = path.join(dir, path.basename(entry.file));
  if (existsSync(target) && (await sha256File(target)) === entry.sha256) {
    log(`${name}: already in the cache (${target}), sha256 verified`);
    return;
  }
  await mkdir(dir, { recursive: true });
  const partial = `${target}.partial`;
  log(`${name}: downloading ${entry.url}`);
  let response: Response;
  try {
    response = await fetch(entry.url, { signal: AbortSignal.timeout(timeout * 1000) });
  } catch (error) {
    throw new ModelMissingError(
      `Could not download ${entry.url} (${(error as Error).message}); this machine may be offline. ` +
        `Download the file elsewhere and put it at ${target} (or in MODELS_DIR); its sha256 must be ${entry.sha256}.`,
    );
  }
  if (!response.ok || !response.body) {
    throw new ModelMissingError(`Download of ${entry.url} failed with HTTP ${response.status}. Put the file at ${target} by hand (sha256 ${entry.sha256}).`);
  }
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(partial));
  const digest = await sha256File(partial);
  if (digest !== entry.sha256) {
    await rm(partial, { force: true });
    throw new ModelMismatchError(`Downloaded ${entry.url} but its sha256 is ${digest}, expected ${entry.sha256}; the file was discarded.`);
  }
  await rename(partial, target);
  log(`${name}: saved to ${target} (sha256 verified)`);
}

if (require.main === module) runCli(main);
