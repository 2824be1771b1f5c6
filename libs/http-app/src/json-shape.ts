/** Deepest JSON nesting accepted in a request body; real payloads here are 1-2 levels deep. */
export const MAX_JSON_DEPTH = 32;

/**
 * Most members and array items a JSON body may hold in all, by default; the services' bodies have
 * at most a handful. Validation costs grow faster than the body: with `forbidNonWhitelisted`, a
 * 90 kB login body of 9,000 unknown members held the event loop for about 100 ms before its 400
 * (1,000 members: 7 ms; 256: under 3 ms).
 */
export const MAX_JSON_MEMBERS = 256;

/** Why a JSON body is refused before parsing, as a body-parser error type; undefined when it is not. */
export type JsonShapeRefusal = 'entity.too.deep' | 'entity.too.wide';

/**
 * Checks the JSON text in `buf` on its raw bytes, before parsing: nesting deeper than `maxDepth`
 * (a body of 5,000 `[` is only 10 kB, parses fine, and then overflows the stack of the recursive
 * validation and transformation code downstream: a 500 for client input), or more than
 * `maxMembers` members and items in all (the first of each container, then one per separating
 * comma: commas alone would let each of them carry up to `maxDepth` one-member containers). Brackets
 * and commas inside strings do not count; escapes inside strings are skipped. Exact for UTF-8 only
 * (its multi-byte sequences never contain ASCII bytes), which is why bodies in any other charset
 * are refused before this runs.
 */
export function jsonShapeRefusal(buf: Buffer, maxDepth = MAX_JSON_DEPTH, maxMembers = MAX_JSON_MEMBERS): JsonShapeRefusal | undefined {
  let depth = 0;
  let members = 0;
  let inString = false;
  /** A container was just opened: the next byte that is no white space and does not close it is its first member or item. */
  let opened = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (opened && c !== 0x7d && c !== 0x5d && ++members > maxMembers) return 'entity.too.wide';
    opened = false;
    if (c === 0x22) {
      inString = true;
    } else if (c === 0x2c) {
      if (++members > maxMembers) return 'entity.too.wide';
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return 'entity.too.deep';
      opened = true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return undefined;
}
