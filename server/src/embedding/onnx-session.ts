/**
 * The one module that imports onnxruntime-node. Everything else runs models through `OnnxModel`,
 * which binds the first input and first output by position (tensor names differ between exports).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

import { ModelMismatchError } from '../common/errors';

export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt';

export interface OnnxModelOptions {
  /** ONNX Runtime intra-op threads (0 = ORT's default, all cores). */
  intraOpThreads?: number;
  /** Providers to try in order; default: TensorRT/CUDA when their libraries are present, else CPU. */
  executionProviders?: ExecutionProvider[];
  log?: (line: string) => void;
}

export interface TensorShape {
  name: string;
  /** Symbolic dimensions are strings (e.g. "N"), fixed ones numbers. */
  dims: (number | string)[];
}

/** Accelerated providers need libonnxruntime_providers_shared.so beside the binding; the npm install skips them offline. */
function acceleratedProvidersInstalled(): boolean {
  try {
    const bindingDir = path.join(path.dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
    return existsSync(path.join(bindingDir, 'libonnxruntime_providers_shared.so'));
  } catch {
    return false;
  }
}

let loggedCpuOnly = false;

function defaultProviders(log: (line: string) => void): ExecutionProvider[] {
  const known = ort.listSupportedBackends().map((b) => b.name);
  const accelerated = (['tensorrt', 'cuda'] as const).filter((p) => known.includes(p));
  if (accelerated.length > 0 && !acceleratedProvidersInstalled()) {
    if (!loggedCpuOnly) log(`onnxruntime: ${accelerated.join('/')} provider libraries are not installed; running on CPU`);
    loggedCpuOnly = true;
    return ['cpu'];
  }
  return [...accelerated, 'cpu'];
}

const loggedFallbacks = new Set<string>();

export class OnnxModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly modelPath: string,
    readonly provider: ExecutionProvider,
    readonly input: TensorShape,
    readonly output: TensorShape,
  ) {}

  static async load(modelPath: string, options: OnnxModelOptions = {}): Promise<OnnxModel> {
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const providers = options.executionProviders ?? defaultProviders(log);
    let lastError: unknown;
    for (const provider of providers) {
      try {
        const session = await ort.InferenceSession.create(modelPath, {
          executionProviders: provider === 'cpu' ? ['cpu'] : [provider, 'cpu'],
          intraOpNumThreads: options.intraOpThreads ?? 0,
          interOpNumThreads: 1,
          graphOptimizationLevel: 'all',
          logSeverityLevel: 3,
        });
        return new OnnxModel(session, modelPath, provider, describe(session.inputMetadata[0], session.inputNames[0]), describe(session.outputMetadata[0], session.outputNames[0]));
      } catch (error) {
        lastError = error;
        const key = `${provider}:${modelPath}`;
        if (provider !== 'cpu' && !loggedFallbacks.has(key)) {
          loggedFallbacks.add(key);
          log(`onnxruntime: ${provider} provider failed (${firstLine(error)}); falling back`);
        }
      }
    }
    throw new ModelMismatchError(`ONNX Runtime could not load "${modelPath}": ${firstLine(lastError)}. Re-download the model (the file may be truncated) or check that it is an ONNX model.`);
  }

  /** Runs the model on one float32 input tensor and returns its first output. */
  async run(data: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const feeds = { [this.input.name]: new ort.Tensor('float32', data, dims) };
    const results = await this.session.run(feeds, [this.output.name]);
    const out = results[this.output.name];
    return { data: out.data as Float32Array, dims: out.dims };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function describe(meta: ort.InferenceSession.ValueMetadata | undefined, name: string): TensorShape {
  if (!meta || !meta.isTensor) throw new ModelMismatchError(`The model's tensor "${name}" is not a tensor; expected a speech model with one tensor input and output.`);
  if (meta.type !== 'float32') throw new ModelMismatchError(`The model's tensor "${name}" is ${meta.type}; expected float32.`);
  return { name, dims: [...meta.shape] };
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}
