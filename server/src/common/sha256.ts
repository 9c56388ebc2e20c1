import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';

/** sha256 of a file, streamed (model files: pinned hashes, model identity of stored embeddings). */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** The same, synchronously (small files checked while a model is being resolved). */
export function sha256FileSync(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
