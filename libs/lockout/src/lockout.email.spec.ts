import fc from 'fast-check';

import { isCountableEmail, isDeliverableEmail, normalizeLoginEmail } from './lockout.email';

/**
 * Spellings whose lower case is not in NFKC: a capital with no precomposed form (`Ϊ́`, `İ` before a
 * mark drawn below) composes or reorders differently once lower-cased.
 */
const UNSTABLE_UNDER_LOWER_CASE = ['\u03aa\u0301', '\u03ab\u0301', '\u03d4\u0301', '\u0130\u0316', '\u0130\u0327', '\u1ffc\u0301'];

describe('account email form', () => {
  it('folds spellings a person cannot tell apart onto one address', () => {
    const forms = [' Ada@Example.com ', 'ａｄａ@example.com', 'ＡＤＡ@EXAMPLE.COM'];
    for (const form of forms) expect(normalizeLoginEmail(form)).toBe('ada@example.com');
    expect(normalizeLoginEmail('jose\u0301@example.com')).toBe(normalizeLoginEmail('jos\u00e9@example.com'));
  });

  it('refuses an address carrying an invisible format character, and judges the stored form', () => {
    for (const invisible of ['\u200b', '\u200d', '\u202e', '\u00ad']) expect(isCountableEmail(`ada${invisible}@example.com`)).toBe(false);
    // Invisible but not format characters (Default_Ignorable_Code_Point): combining grapheme joiner,
    // variation selectors, Hangul fillers (full and half width), a Mongolian free variation selector.
    // No new account is registered with one (an account registered before still signs in).
    for (const invisible of ['\u034f', '\ufe00', '\ufe0f', '\u3164', '\uffa0', '\u115f', '\u180b', '\u17b4'])
      expect({ invisible, deliverable: isDeliverableEmail(`ada${invisible}@example.com`) }).toEqual({ invisible, deliverable: false });
    expect(isCountableEmail('ada\u034f@example.com')).toBe(true);
    expect(isCountableEmail('ａｄａ@example.com')).toBe(true);
    expect(isCountableEmail('ada@example.com.')).toBe(false);
  });

  // Each of these reaches another address's mailbox (lock emails included), so it would be one more
  // account, with an email of the hour of its own, for the same inbox. An account registered under
  // one before still logs in with it: it stays countable.
  it('refuses for a new account, and counts, spellings of an address that mail is delivered to as another one', () => {
    const elsewhere = [
      '"ada\u0001"@example.com', // control characters: dropped by nodemailer
      '"ada\r\nbcc: eve@example.net"@example.com',
      '"a\tda"@example.com',
      'x\u2028ada@example.com', // line and paragraph separators, the Ogham space: read as white space
      'ada\u2029@example.com',
      'x\u1680ada@example.com',
      '"ada"@example.com', // quotes or escapes the local part does not need (RFC 5321 §4.1.2)
      '"\\ada"@example.com',
      '"a\\ b"@example.com',
      '"ada "@example.com', // what nodemailer trims or replaces in quotes
      '" ada"@example.com',
      '"a<b"@example.com',
      'ada@mail\u3002example.com', // domains IDNA maps onto another spelling (UTS #46)
      'ada@exa\u180bmple.com',
    ];
    const needed = [
      '"a b"@example.com',
      '"a\\"b"@example.com',
      '"a\\\\b"@example.com',
      '"a..b"@example.com',
      '"ada@home"@example.com',
      'ada@münchen.de',
      'ada@xn--mnchen-3ya.de',
    ];
    // Escaped, so a failure shows the invisible characters.
    const judged = (emails: string[], rule: (email: string) => boolean) => emails.map((email) => [JSON.stringify(email), rule(email)]);
    expect(judged(elsewhere, isDeliverableEmail)).toEqual(elsewhere.map((email) => [JSON.stringify(email), false]));
    expect(judged(needed, isDeliverableEmail)).toEqual(needed.map((email) => [JSON.stringify(email), true]));
    expect(judged([...elsewhere, ...needed], isCountableEmail)).toEqual(
      [...elsewhere, ...needed].map((email) => [JSON.stringify(email), true]),
    );
  });

  // The stored form is normalised again by every caller that starts from the account (admin unlock,
  // the lockout state an admin reads, a password change): it must name the key the login counted on.
  it('maps a stored address to itself, and a capitalised spelling to the lower-case one', () => {
    for (const letter of UNSTABLE_UNDER_LOWER_CASE) {
      const stored = normalizeLoginEmail(`${letter}@example.com`);
      expect({ letter, again: normalizeLoginEmail(stored) }).toEqual({ letter, again: stored });
      expect({ letter, lower: normalizeLoginEmail(`${letter.toLowerCase()}@example.com`) }).toEqual({ letter, lower: stored });
    }
    expect(normalizeLoginEmail('\u03aa\u0301@example.com')).toBe('\u0390@example.com');
  });

  it('is idempotent on any text', () => {
    const piece = fc.oneof(
      fc.constantFrom(...UNSTABLE_UNDER_LOWER_CASE, '\u00a8', '\u1e9e', '\u2126', 'ﬁ', '①', '™', 'ß', 'Σ'),
      fc.string({ unit: 'grapheme' }),
    );
    fc.assert(
      fc.property(fc.array(piece), (pieces) => {
        const once = normalizeLoginEmail(`${pieces.join('')}@example.com`);
        expect(normalizeLoginEmail(once)).toBe(once);
      }),
      { numRuns: 2_000 },
    );
  });

  it('leaves ASCII addresses, and so their lockout keys, as trim and lower case left them', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) }), (ascii) => {
        expect(normalizeLoginEmail(ascii)).toBe(ascii.trim().toLowerCase());
      }),
    );
  });
});
