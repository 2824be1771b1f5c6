/** Deepest JSON nesting accepted in a request body; real payloads here are 1-2 levels deep. */
export const MAX_JSON_DEPTH = 32;

/**
 * True when the JSON text in `buf` nests objects/arrays deeper than `max`. Runs on the raw bytes
 * before parsing: a body of 5,000 `[` is only 10 kB, parses fine, and then overflows the stack of
 * the recursive validation and transformation code downstream (a 500 for client input).
 * Brackets inside strings do not count; escapes inside strings are skipped. Exact for UTF-8 only
 * (its multi-byte sequences never contain ASCII bytes), which is why bodies in any other charset
 * are refused before this runs.
 */
export function exceedsJsonDepth(buf: Buffer, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
