import { InvalidCursorError } from './accounts.errors';
import type { ListCursor } from './users.repository';

/** Cursors are opaque to clients: base64url of `[sortTimeIso, id]`. */
export function encodeListCursor(cursor: ListCursor): string {
  return Buffer.from(JSON.stringify([cursor.at, cursor.id])).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A time as `encodeListCursor` writes it, within years Postgres and every listing can hold. */
const CURSOR_TIME = /^(?:19[7-9][0-9]|[2-9][0-9]{3})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;

export function decodeListCursor(value: string): ListCursor {
  try {
    const [at, id] = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as unknown[];
    // Read back as written: any other time Date.parse accepts may be one Postgres cannot hold (a 500).
    const time = typeof at === 'string' && CURSOR_TIME.test(at) && new Date(at).toISOString() === at;
    if (time && typeof id === 'string' && UUID.test(id)) return { at, id };
  } catch {
    // falls through: not a cursor this route made
  }
  throw new InvalidCursorError();
}
