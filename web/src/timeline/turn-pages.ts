import type { TurnPageFieldsFragment } from '../gql/graphql';

export type TurnNode = TurnPageFieldsFragment['nodes'][number];

/**
 * The timeline loads every turn, in pages of the server's largest size (1000), rather than only the
 * turns of the visible window (`turns(from:, to:)`): the overview, the whole-meeting zoom, the turn
 * list and hit-testing all need every turn, and a 4-hour meeting's ~6,000 turns are ~0.5 MB held
 * once, while a window query would refetch (and flicker) on every scroll and zoom. Pages keep each
 * answer small, let the first page draw at once, and give a progress count.
 */
export const TURN_PAGE_SIZE = 1000;

/**
 * Follows `after` cursors from `first` until the last page, calling `onPage` with the turns so far
 * (a fresh array each time) after each page. Stops (throwing the signal's reason) once `signal` is aborted.
 */
export async function loadAllTurnPages(
  first: TurnPageFieldsFragment,
  fetchPage: (after: string) => Promise<TurnPageFieldsFragment>,
  options: { onPage?: (turns: TurnNode[]) => void; signal?: AbortSignal } = {},
): Promise<TurnNode[]> {
  // A new array per page: React state and memos see each page as a change.
  let turns = [...first.nodes];
  let page = first;
  while (page.pageInfo.hasNextPage) {
    options.signal?.throwIfAborted();
    const after = page.pageInfo.endCursor;
    if (!after) throw new Error('The server said more turns follow but sent no cursor; reload the page.');
    page = await fetchPage(after);
    options.signal?.throwIfAborted();
    turns = turns.concat(page.nodes);
    options.onPage?.(turns);
  }
  return turns;
}
