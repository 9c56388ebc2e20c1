/**
 * Inside a worker thread: owns one ONNX Runtime session and runs it on request. onnxruntime-node's
 * `run()` blocks the calling thread, so models that should run concurrently (segmentation, embeddings)
 * and the main thread's own work (decode piping, fbank) each get a thread of their own.
 */
import { parentPort } from 'node:worker_threads';

import { OnnxModel } from './onnx-session';
import type { WorkerRequest, WorkerResponse } from './onnx-worker-protocol';

const port = parentPort;
if (!port) throw new Error('onnx-worker must run in a worker thread');
let model: OnnxModel | undefined;

port.on('message', async (request: WorkerRequest) => {
  try {
    if (request.type === 'load') {
      model = await OnnxModel.load(request.modelPath, { ...request.options, log: (line) => port.postMessage({ type: 'log', line } satisfies WorkerResponse) });
      port.postMessage({ type: 'loaded', input: model.input, output: model.output, provider: model.provider } satisfies WorkerResponse);
    } else if (request.type === 'run') {
      if (!model) throw new Error('model not loaded');
      const out = await model.run(request.data, request.dims);
      const data = new Float32Array(out.data); // own buffer, transferable
      port.postMessage({ type: 'result', id: request.id, data, dims: [...out.dims] } satisfies WorkerResponse, [data.buffer]);
    } else if (request.type === 'release') {
      await model?.release();
      port.postMessage({ type: 'released' } satisfies WorkerResponse);
    }
  } catch (error) {
    const e = error as Error & { code?: string };
    port.postMessage({ type: 'error', id: request.type === 'run' ? request.id : undefined, message: e.message, code: e.code } satisfies WorkerResponse);
  }
});
