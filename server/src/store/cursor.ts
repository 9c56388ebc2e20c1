import { InvalidArgumentError } from '../common/errors';

/**
 * Opaque keyset cursors: base64url of JSON `[ordering, sortValue, id]`. The ordering name makes a
 * cursor from another listing or sort field fail loudly instead of returning a wrong page.
 */
export type CursorValue = string | number;

export function encodeCursor(ordering: string, value: CursorValue, id: string): string {
  return Buffer.from(JSON.stringify([ordering, value, id])).toString('base64url');
}

export function decodeCursor(cursor: string, ordering: string, valueType: 'string' | 'number'): { value: CursorValue; id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (Array.isArray(parsed) && parsed.length === 3 && parsed[0] === ordering && typeof parsed[1] === valueType && typeof parsed[2] === 'string') {
    return { value: parsed[1], id: parsed[2] };
  }
  throw new InvalidArgumentError(
    `Invalid cursor "${cursor.slice(0, 80)}" for a list ordered by ${ordering}. Pass the endCursor of a previous page of the same list and ordering, or omit "after" to start from the beginning.`,
  );
}
