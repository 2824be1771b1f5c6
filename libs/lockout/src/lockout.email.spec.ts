import { isCountableEmail, normalizeLoginEmail } from './lockout.email';

describe('account email form', () => {
  it('folds spellings a person cannot tell apart onto one address', () => {
    const forms = [' Ada@Example.com ', 'ａｄａ@example.com', 'ＡＤＡ@EXAMPLE.COM'];
    for (const form of forms) expect(normalizeLoginEmail(form)).toBe('ada@example.com');
    expect(normalizeLoginEmail('jose\u0301@example.com')).toBe(normalizeLoginEmail('jos\u00e9@example.com'));
  });

  it('refuses an address carrying an invisible format character, and judges the stored form', () => {
    for (const invisible of ['\u200b', '\u200d', '\u202e', '\u00ad']) expect(isCountableEmail(`ada${invisible}@example.com`)).toBe(false);
    expect(isCountableEmail('ａｄａ@example.com')).toBe(true);
    expect(isCountableEmail('ada@example.com.')).toBe(false);
  });
});
