// Entry point of an inference worker thread. The worker is a fresh Node isolate: register tsx so it
// can load the TypeScript worker module whether the parent runs under tsx, jest or compiled code.
require('tsx/cjs/api').register();
require('./onnx-worker.ts');
