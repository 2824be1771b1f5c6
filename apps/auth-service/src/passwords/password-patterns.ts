/**
 * Repetitive and sequential passwords (NIST SP 800-63B 3.1.1.2). The rules look at the whole
 * password so that a passphrase that merely contains `abc` or `2024` is not refused.
 */

/** Orders in which neighbours count as "sequential": alphabet, digits and QWERTY keyboard rows. */
const SEQUENCES = ['abcdefghijklmnopqrstuvwxyz', '0123456789', '1234567890', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm'];

/** Pairs `ab` such that b follows a in one of the sequences (`ba` then precedes). */
const FOLLOWS = new Set(SEQUENCES.flatMap((sequence) => [...sequence].slice(1).map((char, i) => sequence[i] + char)));

/** Shortest stretch of repeated or consecutive characters that counts as a run. */
const MIN_RUN = 3;
/** The password is refused when runs cover at least this share of it. */
const RUN_COVERAGE = 2 / 3;
/** At most this many different characters is a pattern whatever the order (`abababab…`, fifteen spaces). */
const MAX_DISTINCT = 3;

/**
 * True when `password` (past the length rule, already in comparison form) is a pattern rather than a
 * secret: at most three different characters; a block shorter than `minLength` repeated over the
 * whole password (`abcabcabcabcabc`, `Summer2024!Summer2024!`), which is no stronger than the block the
 * length rule would refuse; or mostly made of runs of three or more identical or consecutive
 * characters (`aaaabbbbccccdddd`, `123456789012345`, `qwertyuiopasdf12`).
 */
export function isRepetitiveOrSequential(password: string, minLength: number): boolean {
  const chars = [...password];
  return new Set(chars).size <= MAX_DISTINCT || repeatsShortBlock(chars, minLength) || runCoverage(chars) >= RUN_COVERAGE;
}

/** The password has a period p (chars[i] === chars[i - p] throughout) shorter than minLength and at most half its length. */
function repeatsShortBlock(chars: string[], minLength: number): boolean {
  for (let period = 1; period < minLength && period * 2 <= chars.length; period++) {
    if (chars.every((char, i) => i < period || char === chars[i - period])) return true;
  }
  return false;
}

/** -1, 0 or +1 when b precedes, repeats or follows a; undefined when they are unrelated. */
function step(a: string, b: string): number | undefined {
  if (a === b) return 0;
  if (FOLLOWS.has(a + b)) return 1;
  if (FOLLOWS.has(b + a)) return -1;
  return undefined;
}

/** Share of the characters that lie in runs of at least MIN_RUN characters moving by one constant step. */
function runCoverage(chars: string[]): number {
  const covered = new Array<boolean>(chars.length).fill(false);
  let start = 0;
  let direction: number | undefined;
  for (let i = 1; i <= chars.length; i++) {
    const s = i < chars.length ? step(chars[i - 1], chars[i]) : undefined;
    if (s !== undefined && (i - start === 1 || s === direction)) {
      direction = s;
      continue;
    }
    if (i - start >= MIN_RUN) covered.fill(true, start, i);
    // The pair (i-1, i) may start the next run: `abcba` is `abc` then `cba`, sharing the `c`.
    start = s === undefined ? i : i - 1;
    direction = s;
  }
  return chars.length === 0 ? 0 : covered.filter(Boolean).length / chars.length;
}
