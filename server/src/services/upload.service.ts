import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

import { probeAudio } from '../audio';
import { BlobStore } from '../storage/blob-store';
import { Store, UploadRecord } from '../store/types';
import type { TranscriptFormat } from '../transcripts/types';

/** A recording already in the blob store and checked by ffprobe, not yet registered. */
export interface StoredRecording {
  id: string;
  /** The client's file name (base name only). */
  originalName: string;
  /** Blob key of the stored original. */
  key: string;
  bytes: number;
  /** Container as ffprobe names it. */
  format: string;
  /** Absent when the container does not say; computing peaks later gives the exact figure. */
  durationSec?: number;
  /** A checked transcript came with it (blob uploadTranscriptKey(id)). */
  transcriptFormat?: string;
}

/** Where a transcript sent with the recording waits for its meeting (removed with the upload's folder). */
export function uploadTranscriptKey(uploadId: string): string {
  return `uploads/${uploadId}/transcript`;
}

export async function readBlobText(blobs: BlobStore, key: string): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of blobs.createReadStream(key)) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

export function uploadKey(uploadId: string, originalName: string): string {
  const safe =
    path
      .basename(originalName)
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .slice(-100) || 'recording';
  return `uploads/${uploadId}/${safe}`;
}

/**
 * The one way a recording becomes an upload: `POST /uploads` (http/uploads.ts streams and probes
 * the file, then calls register) and `importMeetings` (importFile) both end in register.
 */
export class UploadService {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
  ) {}

  /** Stores the upload's row. The caller removes the object when this throws. */
  async register(file: StoredRecording): Promise<UploadRecord> {
    const upload: UploadRecord = {
      id: file.id,
      originalName: file.originalName,
      path: file.key,
      bytes: file.bytes,
      format: file.format,
      durationSec: file.durationSec ?? 0,
      createdAt: new Date().toISOString(),
      ...(file.transcriptFormat ? { transcriptFormat: file.transcriptFormat as TranscriptFormat } : {}),
    };
    await this.store.insertUpload(upload);
    return upload;
  }

  /** Copies a file from IMPORT_DIR (already checked by resolveImportPath) into storage as an upload. */
  async importFile(absolutePath: string): Promise<UploadRecord> {
    const info = await probeAudio(absolutePath);
    const id = randomUUID();
    const originalName = path.basename(absolutePath);
    const key = uploadKey(id, originalName);
    await pipeline(createReadStream(absolutePath), this.blobs.createWriteStream(key));
    try {
      const stat = await this.blobs.stat(key);
      return await this.register({ id, originalName, key, bytes: stat?.bytes ?? 0, format: info.formatName, durationSec: info.durationSec });
    } catch (error) {
      await this.blobs.remove(key);
      throw error;
    }
  }
}
