/**
 * The one module that imports onnxruntime-node. Everything else runs models through `OnnxModel`,
 * which binds the first input and first output by position (tensor names differ between exports).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

import { AppError, ErrorCode, ModelMismatchError } from '../common/errors';
import type { WorkerRequest, WorkerResponse } from './onnx-worker-protocol';
import type { ExecutionProvider, OnnxModelOptions, TensorShape } from './types';

export type { ExecutionProvider, OnnxModelOptions, TensorShape };

/** What the pipeline needs of a model, whether it runs on this thread or on a worker. */
export interface InferenceModel {
  readonly modelPath: string;
  readonly provider: ExecutionProvider;
  readonly input: TensorShape;
  readonly output: TensorShape;
  run(data: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }>;
  release(): Promise<void>;
}

export function loadModel(modelPath: string, options: OnnxModelOptions = {}): Promise<InferenceModel> {
  if (!options.inWorker) return OnnxModel.load(modelPath, options);
  // Choose providers here, so the fallback is logged once per process rather than once per worker.
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  return WorkerOnnxModel.load(modelPath, { ...options, executionProviders: options.executionProviders ?? defaultProviders(log) });
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

/**
 * Whether inference will likely run on an accelerated provider: the given providers name one (or, by
 * default, the build lists one) and its libraries are installed. `auto` model variants use this to
 * choose FP16 (GPU) over INT8 (CPU); the provider actually used is checked again after loading.
 */
export function acceleratedProvidersAvailable(executionProviders?: readonly ExecutionProvider[]): boolean {
  const known = ort.listSupportedBackends().map((b) => b.name);
  const wanted = executionProviders ?? (['tensorrt', 'cuda'] as const);
  return wanted.some((p) => p !== 'cpu' && known.includes(p)) && acceleratedProvidersInstalled();
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

export class OnnxModel implements InferenceModel {
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
          // Spinning intra-op threads steal the cores that the other model's worker and decoding need.
          extra: { session: { intra_op: { allow_spinning: process.env.ORT_SPIN ?? '0' } } },
        });
        return new OnnxModel(
          session,
          modelPath,
          provider,
          describe(session.inputMetadata[0], session.inputNames[0]),
          describe(session.outputMetadata[0], session.outputNames[0]),
        );
      } catch (error) {
        lastError = error;
        const key = `${provider}:${modelPath}`;
        if (provider !== 'cpu' && !loggedFallbacks.has(key)) {
          loggedFallbacks.add(key);
          log(`onnxruntime: ${provider} provider failed (${firstLine(error)}); falling back`);
        }
      }
    }
    throw new ModelMismatchError(
      `ONNX Runtime could not load "${modelPath}": ${firstLine(lastError)}. Re-download the model (the file may be truncated) or check that it is an ONNX model.`,
    );
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
  if (!meta || !meta.isTensor)
    throw new ModelMismatchError(`The model's tensor "${name}" is not a tensor; expected a speech model with one tensor input and output.`);
  if (meta.type !== 'float32') throw new ModelMismatchError(`The model's tensor "${name}" is ${meta.type}; expected float32.`);
  return { name, dims: [...meta.shape] };
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0];
}

/**
 * An OnnxModel on a worker thread (onnxruntime-node's run() blocks its thread). Inputs are
 * transferred, not copied: callers must not reuse an array after passing it to run().
 */
export class WorkerOnnxModel implements InferenceModel {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: { data: Float32Array; dims: readonly number[] }) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly worker: Worker,
    readonly modelPath: string,
    readonly provider: ExecutionProvider,
    readonly input: TensorShape,
    readonly output: TensorShape,
  ) {
    worker.on('message', (message: WorkerResponse) => {
      if (message.type === 'result' || (message.type === 'error' && message.id !== undefined)) {
        const id = message.type === 'result' ? message.id : message.id!;
        const request = this.pending.get(id);
        this.pending.delete(id);
        if (this.pending.size === 0) worker.unref();
        if (message.type === 'result') request?.resolve({ data: message.data, dims: message.dims });
        else request?.reject(new Error(`inference failed on the worker: ${message.message}`));
      }
    });
    worker.on('error', (error) => {
      for (const request of this.pending.values()) request.reject(error);
      this.pending.clear();
    });
    // Idle workers must not keep the process alive (attaching listeners refs the worker again).
    worker.unref();
  }

  static async load(modelPath: string, options: OnnxModelOptions): Promise<WorkerOnnxModel> {
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const worker = new Worker(path.join(__dirname, 'onnx-worker-bootstrap.js'));
    const loaded = await new Promise<Extract<WorkerResponse, { type: 'loaded' }>>((resolve, reject) => {
      const onMessage = (message: WorkerResponse) => {
        if (message.type === 'log') log(message.line);
        else if (message.type === 'loaded') resolve(message);
        else if (message.type === 'error') reject(message.code ? new AppError(message.code as ErrorCode, message.message) : new Error(message.message));
        if (message.type !== 'log') worker.off('message', onMessage);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
      const { log: _log, ...transferable } = options;
      worker.postMessage({ type: 'load', modelPath, options: transferable } satisfies WorkerRequest);
    }).catch(async (error) => {
      await worker.terminate();
      throw error;
    });
    return new WorkerOnnxModel(worker, modelPath, loaded.provider, loaded.input, loaded.output);
  }

  run(data: Float32Array, dims: readonly number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      const owned = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
      this.worker.postMessage({ type: 'run', id, data: owned, dims: [...dims] } satisfies WorkerRequest, [owned.buffer as ArrayBuffer]);
    });
  }

  async release(): Promise<void> {
    await this.worker.terminate();
  }
}
