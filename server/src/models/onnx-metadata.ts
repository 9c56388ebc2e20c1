import { readFile } from 'node:fs/promises';
import { Reader } from 'protobufjs/minimal';

import { ModelMismatchError } from '../common/errors';

/**
 * Reads `metadata_props` (ModelProto field 14) from an ONNX file. onnxruntime-node exposes tensor
 * metadata but not the model's key/value metadata, so we walk the top-level protobuf fields with
 * protobufjs' low-level Reader and skip everything else (the graph, with its weights, included).
 */
export async function readOnnxMetadata(modelPath: string): Promise<Record<string, string>> {
  const bytes = await readFile(modelPath);
  const metadata: Record<string, string> = {};
  try {
    const reader = Reader.create(bytes);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      if (field === 14 && (tag & 7) === 2) {
        const entry = Reader.create(reader.bytes());
        let key = '';
        let value = '';
        while (entry.pos < entry.len) {
          const entryTag = entry.uint32();
          if (entryTag >>> 3 === 1) key = entry.string();
          else if (entryTag >>> 3 === 2) value = entry.string();
          else entry.skipType(entryTag & 7);
        }
        metadata[key] = value;
      } else {
        reader.skipType(tag & 7);
      }
    }
  } catch (error) {
    throw new ModelMismatchError(`"${modelPath}" is not a readable ONNX model (${(error as Error).message}). Re-download it or point to a valid .onnx file.`);
  }
  return metadata;
}
