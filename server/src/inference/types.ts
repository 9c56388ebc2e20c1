/** Types shared by the ONNX session wrapper and its worker protocol (kept here so neither imports the other's types). */
export type ExecutionProvider = 'cpu' | 'cuda' | 'tensorrt';

export interface OnnxModelOptions {
  /** ONNX Runtime intra-op threads (0 = ORT's default, all cores). */
  intraOpThreads?: number;
  /** Providers to try in order; default: TensorRT/CUDA when their libraries are present, else CPU. */
  executionProviders?: ExecutionProvider[];
  log?: (line: string) => void;
  /** Run the session on a worker thread of its own, so it runs concurrently with the main thread and other models. */
  inWorker?: boolean;
}

export interface TensorShape {
  name: string;
  /** Symbolic dimensions are strings (e.g. "N"), fixed ones numbers. */
  dims: (number | string)[];
}
