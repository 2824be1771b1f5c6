import { exceedsJsonDepth } from './json-depth';

describe('exceedsJsonDepth', () => {
  it('accepts ordinary bodies and nesting up to the limit', () => {
    expect(exceedsJsonDepth(Buffer.from('{"email":"a@b.c","password":"x"}'))).toBe(false);
    expect(exceedsJsonDepth(Buffer.from('['.repeat(32) + ']'.repeat(32)))).toBe(false);
  });

  it('refuses nesting past the limit, for objects and arrays alike', () => {
    expect(exceedsJsonDepth(Buffer.from('['.repeat(33) + ']'.repeat(33)))).toBe(true);
    expect(exceedsJsonDepth(Buffer.from('{"a":'.repeat(40) + '1' + '}'.repeat(40)))).toBe(true);
    expect(exceedsJsonDepth(Buffer.from('['.repeat(5000)))).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(exceedsJsonDepth(Buffer.from(JSON.stringify({ password: '['.repeat(100) })))).toBe(false);
    expect(exceedsJsonDepth(Buffer.from(JSON.stringify({ password: '\\"' + '{'.repeat(100) })))).toBe(false);
  });
});
