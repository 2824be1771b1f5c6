/**
 * The form in which the policy compares a password with lists and context words: NFKC folds
 * compatibility variants (full-width letters, ligatures) onto their plain spelling and lower case
 * ignores capitalisation, so `ＭａｎｃｈｅｓｔｅｒＵｎｉｔｅｄ` is recognised as `manchesterunited`. Only comparisons use
 * it; the password itself is hashed in NFC, which keeps every distinct character.
 */
export function comparisonForm(value: string): string {
  return value.normalize('NFKC').toLowerCase();
}
