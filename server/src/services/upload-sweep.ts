import { BlobStore } from '../storage/blob-store';
import { Store } from '../store/types';

/** What one sweep removed. */
export interface SweepReport {
  /** Abandoned writes (partial files, unfinished multipart uploads). */
  partials: number;
  /** Upload rows (with their files) that no meeting and no enrollment used. */
  uploads: number;
  /** Upload folders without any uploads row (a process died between writing and registering). */
  strayFolders: number;
}

export interface UploadSweepOptions {
  /** Removed once this old: unreferenced uploads, stray folders, and partial writes untouched this long. */
  orphanAgeMs: number;
  /** Time between sweeps; 0: never (not even at start). */
  intervalMs: number;
  log: (line: string) => void;
  now?: () => number;
}

/** Folders that receive writes through the blob store (uploads, and the derivatives of meetings). */
const WRITTEN_FOLDERS = ['uploads', 'meetings'];
/** Upload rows looked at per round trip. */
const PAGE = 200;

/**
 * Keeps storage from filling with what nobody can reach: partial files of writes a killed process
 * abandoned, uploads nobody made a meeting or an enrollment from (e.g. a `findSpeaker` clip, or a
 * browser closed after uploading), and upload folders whose row never got written. Runs at start
 * and then every `intervalMs`; every API process may run it (each removal is safe to repeat).
 */
export class UploadSweeper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<SweepReport>;

  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly options: UploadSweepOptions,
  ) {}

  start(): void {
    if (this.options.intervalMs <= 0) return;
    const sweep = () =>
      void this.runOnce().catch((error: unknown) =>
        this.options.log(`upload sweep failed (tried again later): ${error instanceof Error ? error.message : String(error)}`),
      );
    sweep();
    this.timer = setInterval(sweep, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One sweep (a second call while one runs waits for it). */
  runOnce(): Promise<SweepReport> {
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweep(): Promise<SweepReport> {
    const cutoff = new Date((this.options.now ?? Date.now)() - this.options.orphanAgeMs);
    const report: SweepReport = { partials: 0, uploads: 0, strayFolders: 0 };

    for (const folder of WRITTEN_FOLDERS) report.partials += await this.blobs.removeStalePartials(folder, cutoff);

    // Rows first: the conditional delete decides (a meeting made meanwhile keeps its upload), then the files go.
    for (;;) {
      const page = await this.store.unreferencedUploads(cutoff.toISOString(), PAGE);
      let deleted = 0;
      for (const upload of page) {
        if (!(await this.store.deleteUploadIfUnreferenced(upload.id))) continue;
        await this.blobs.removePrefix(`uploads/${upload.id}`);
        deleted += 1;
      }
      report.uploads += deleted;
      // A page where nothing could go would come back the same: stop rather than loop.
      if (page.length < PAGE || deleted === 0) break;
    }

    // Folders under uploads/ whose files are all old and that no row names.
    const newest = new Map<string, number>();
    for (const blob of await this.blobs.list('uploads')) {
      const id = blob.key.split('/')[1];
      if (id) newest.set(id, Math.max(newest.get(id) ?? 0, blob.modifiedAt.getTime()));
    }
    const oldIds = [...newest].filter(([, time]) => time < cutoff.getTime()).map(([id]) => id);
    const registered = oldIds.length > 0 ? await this.store.existingUploadIds(oldIds) : new Set<string>();
    for (const id of oldIds) {
      if (registered.has(id)) continue;
      await this.blobs.removePrefix(`uploads/${id}`);
      report.strayFolders += 1;
    }

    if (report.partials + report.uploads + report.strayFolders > 0)
      this.options.log(
        `upload sweep: removed ${report.partials} abandoned partial write(s), ${report.uploads} upload(s) no meeting or enrollment used, ${report.strayFolders} unregistered upload folder(s) (older than ${Math.round(this.options.orphanAgeMs / 3_600_000)} h)`,
      );
    return report;
  }
}
