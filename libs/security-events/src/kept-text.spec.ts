import { keptText } from './kept-text';

describe('keptText', () => {
  it('returns the text, or its first characters, unchanged whatever they are', () => {
    const text = 'Ada Lovelace <ada@example.com> é 漢字 😀 \ud800 lone';
    expect(keptText(text)).toBe(text);
    expect(keptText(text, 14)).toBe('Ada Lovelace <');
    expect(keptText(text, 1000)).toBe(text);
    expect(keptText('')).toBe('');
  });
});
