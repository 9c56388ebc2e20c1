/** Messages between a WorkerOnnxModel (main thread) and its worker (onnx-worker.ts). */
import type { ExecutionProvider, OnnxModelOptions, TensorShape } from './types';

export type WorkerRequest =
  | { type: 'load'; modelPath: string; options: Omit<OnnxModelOptions, 'log'> }
  | { type: 'run'; id: number; data: Float32Array; dims: number[] }
  | { type: 'release' };

export type WorkerResponse =
  | { type: 'loaded'; input: TensorShape; output: TensorShape; provider: ExecutionProvider }
  | { type: 'result'; id: number; data: Float32Array; dims: number[] }
  | { type: 'error'; id?: number; message: string; code?: string }
  | { type: 'log'; line: string }
  | { type: 'released' };
