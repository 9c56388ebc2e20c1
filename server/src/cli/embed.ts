import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';

import { decodeToArray } from '../audio';
import { InvalidAudioError } from '../common/errors';
import { SpeakerEmbedder } from '../embedding/embedder';
import { DEFAULT_VARIANT, VariantChoice, VARIANT_CHOICES } from '../models/variants';
import { log, parsePositiveInt, runCli } from './common';

const program = new Command('embed')
  .description('Utterance embeddings (mean of L2-normalised window embeddings) as JSON lines: {"file", "embedding"}.')
  .argument('<input>', 'an audio file, or a list file (.txt/.lst): one audio path per line, absolute or relative to the list file')
  .option('--embedding-model <path|name>', 'speaker-embedding model: a models/manifest.json name or an .onnx path')
  .addOption(
    new Option('--variant <name>', 'embedding model variant (auto: int8 on CPU, fp16 on GPU, fp32 if not built)')
      .choices([...VARIANT_CHOICES])
      .default(DEFAULT_VARIANT),
  )
  .option('--threads <n>', 'ONNX Runtime threads', (v) => parsePositiveInt(v, '--threads'))
  .option('--out <file>', 'write JSON lines here instead of stdout');

/** Inputs as given, plus where to read each from (list entries resolve against the list's folder). */
export async function expandInputs(input: string): Promise<{ given: string; resolved: string }[]> {
  if (!/\.(txt|lst)$/i.test(input)) return [{ given: input, resolved: input }];
  const dir = path.dirname(input);
  const lines = (await readFile(input, 'utf8'))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  return lines.map((line) => ({ given: line, resolved: path.isAbsolute(line) ? line : path.join(dir, line) }));
}

/** Loads the model once; embeds whole utterances with the pipeline's front end. */
export async function createUtteranceEmbedder(
  model?: string,
  threads?: number,
  variant: VariantChoice = DEFAULT_VARIANT,
  /** Applied to each file's decoded samples before embedding (default: none). */
  prepare: (samples: Float32Array, file: string) => Float32Array = (samples) => samples,
): Promise<{ embedFile: (file: string) => Promise<Float32Array>; embedder: SpeakerEmbedder }> {
  const embedder = await SpeakerEmbedder.loadNamed(model, variant, { intraOpThreads: threads, log });
  return {
    embedder,
    embedFile: async (file: string) => {
      const samples = prepare(await decodeToArray(file), file);
      const embedding = await embedder.embedUtterance(samples);
      // Too short for one window: embed whatever there is rather than fail a whole list.
      if (embedding) return embedding;
      if (samples.length === 0) throw new InvalidAudioError(`"${file}" decoded to no samples; check that it holds speech.`);
      const fbank = embedder.fbank(samples);
      const frames = fbank.length / embedder.frontEnd.recipe.numMelBins;
      if (frames < 10)
        throw new InvalidAudioError(`"${file}" is too short to embed (${(samples.length / 16000).toFixed(2)} s); give at least 0.1 s of speech.`);
      return embedder.embedWindows(fbank, [{ startFrame: 0, numFrames: frames }]);
    },
  };
}

async function main(): Promise<void> {
  program.parse();
  const [input] = program.args;
  const flags = program.opts<{ embeddingModel?: string; variant: VariantChoice; threads?: number; out?: string }>();
  const inputs = await expandInputs(input);
  const { embedFile, embedder } = await createUtteranceEmbedder(flags.embeddingModel, flags.threads, flags.variant);
  const out = flags.out ? createWriteStream(flags.out) : process.stdout;
  for (const { given, resolved } of inputs) {
    const embedding = await embedFile(resolved);
    out.write(`${JSON.stringify({ file: given, embedding: Array.from(embedding, (x) => Math.round(x * 1e6) / 1e6) })}\n`);
  }
  if (out !== process.stdout) await new Promise<void>((resolve) => (out as NodeJS.WritableStream).end(resolve));
  await embedder.release();
  log(`embedded ${inputs.length} input(s) with ${embedder.name} ${embedder.variant} (${embedder.dim} dims)`);
}

if (require.main === module) runCli(main);
