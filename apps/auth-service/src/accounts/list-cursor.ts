import { InvalidCursorError } from './accounts.errors';
import type { ListCursor } from './users.repository';

/** Cursors are opaque to clients: base64url of `[sortTimeIso, id]`. */
export function encodeListCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify([cursor.at, cursor.id])).toString('base64url');
}

export function decodeListCursor(value: string): ListCursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown[];
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    if (typeof at === 'string' && !Number.isNaN(Date.parse(at)) && typeof id === 'string' && uuid.test(id)) return { at, id };
  } catch {
    // falls through: not a cursor this route made
  }
  throw new InvalidCursorError();
}
