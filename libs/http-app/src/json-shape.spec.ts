import { jsonShapeRefusal, MAX_JSON_MEMBERS } from './json-shape';

const exceedsJsonDepth = (buf: Buffer) => jsonShapeRefusal(buf) === 'entity.too.deep';

describe('jsonShapeRefusal: depth', () => {
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

describe('jsonShapeRefusal: members', () => {
  const object = (members: number) =>
    Buffer.from(JSON.stringify(Object.fromEntries(Array.from({ length: members }, (_, i) => [`k${i}`, i]))));

  it(`accepts up to ${MAX_JSON_MEMBERS} members and items, and refuses more`, () => {
    expect(jsonShapeRefusal(object(MAX_JSON_MEMBERS))).toBeUndefined();
    expect(jsonShapeRefusal(object(MAX_JSON_MEMBERS + 1))).toBe('entity.too.wide');
    expect(jsonShapeRefusal(Buffer.from(`[${'0,'.repeat(MAX_JSON_MEMBERS)}0]`))).toBe('entity.too.wide');
    // Counted across every container of the body, not per container.
    expect(jsonShapeRefusal(Buffer.from(JSON.stringify({ a: Array(200).fill(0), b: Array(200).fill(0) })))).toBe('entity.too.wide');
  });

  it('counts the first member or item of every container too, not only the separators', () => {
    // docs/routes.md: "256 members and array items in all". 200 members each holding an object of
    // one member are 400 members in all, with only 199 commas between them.
    const nested = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, { v: i }]));
    expect(jsonShapeRefusal(Buffer.from(JSON.stringify(nested)))).toBe('entity.too.wide');
    // Up to 32 levels of one-member containers behind each comma: thousands of members in all.
    const chain = (levels: number): unknown => (levels === 0 ? 1 : { a: chain(levels - 1) });
    expect(jsonShapeRefusal(Buffer.from(JSON.stringify(Array.from({ length: 100 }, () => chain(30)))))).toBe('entity.too.wide');
    // Empty containers hold nothing, and white space changes nothing.
    expect(jsonShapeRefusal(Buffer.from(`[${Array(256).fill('{ }').join(', ')}]`))).toBeUndefined();
    expect(jsonShapeRefusal(Buffer.from(`[${Array(257).fill('[ ]').join(' ,')}]`))).toBe('entity.too.wide');
    expect(jsonShapeRefusal(Buffer.from(` { "a" : [ 1 , 2 ] , "b" : { "c" : "d" } } `), undefined, 5)).toBeUndefined();
    expect(jsonShapeRefusal(Buffer.from(` { "a" : [ 1 , 2 ] , "b" : { "c" : "d" } } `), undefined, 4)).toBe('entity.too.wide');
  });

  it('does not count commas inside strings', () => {
    expect(jsonShapeRefusal(Buffer.from(JSON.stringify({ password: ','.repeat(10_000) })))).toBeUndefined();
    expect(jsonShapeRefusal(Buffer.from(JSON.stringify({ password: `\\"${','.repeat(10_000)}` })))).toBeUndefined();
  });

  it('takes another limit', () => {
    expect(jsonShapeRefusal(object(3), undefined, 3)).toBeUndefined();
    expect(jsonShapeRefusal(object(4), undefined, 3)).toBe('entity.too.wide');
  });
});
