import { Page, TurnRecord } from '../store/types';

/** Pages kept; one page of 500 turns is ~60 kB in memory. */
const MAX_PAGES = 256;

/**
 * Recently served pages of turns. Every write to a meeting's turns (a diarization run, a manual
 * edit) moves its `updatedAt`, which is part of the key, so a stale page is never served: it just
 * ages out. Saves the SQL (a third of a 500-turn request's CPU, bench:server) when many people
 * open the same meeting.
 */
export class TurnPageCache {
  private readonly pages = new Map<string, Promise<Omit<Page<TurnRecord>, 'totalCount'>>>();

  get(key: string, load: () => Promise<Omit<Page<TurnRecord>, 'totalCount'>>): Promise<Omit<Page<TurnRecord>, 'totalCount'>> {
    let page = this.pages.get(key);
    if (page) {
      // Refresh its place in the LRU order.
      this.pages.delete(key);
      this.pages.set(key, page);
      return page;
    }
    page = load();
    this.pages.set(key, page);
    page.catch(() => this.pages.delete(key));
    if (this.pages.size > MAX_PAGES) this.pages.delete(this.pages.keys().next().value!);
    return page;
  }
}

export function turnPageKey(meetingId: string, updatedAt: string, args: { from?: number; to?: number; first?: number; after?: string }): string {
  return JSON.stringify([meetingId, updatedAt, args.from ?? null, args.to ?? null, args.first ?? null, args.after ?? null]);
}
