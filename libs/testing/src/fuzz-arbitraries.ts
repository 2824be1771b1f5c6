import { connect } from 'node:net';

import fc from 'fast-check';

/**
 * Building blocks for the property-based fuzz suites (`fuzz-*.e2e-spec.ts` under the apps and `test/e2e`):
 * the seed and run counts, hostile values of every shape, request bodies and content types, and a
 * raw-socket HTTP client for header bytes Node's own client refuses to send.
 */

/** The default seed: every run is reproducible; set FUZZ_SEED to explore other inputs. */
export const DEFAULT_FUZZ_SEED = 20_260_601;

/** The seed of this run (FUZZ_SEED or {@link DEFAULT_FUZZ_SEED}). */
export function fuzzSeed(): number {
  const raw = process.env.FUZZ_SEED;
  if (raw === undefined || raw.trim() === '') return DEFAULT_FUZZ_SEED;
  const seed = Number(raw);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${JSON.stringify(raw)}`);
  return seed;
}

/**
 * fast-check parameters for one property: the run's seed and `numRuns` scaled by FUZZ_SCALE
 * (default 1, e.g. FUZZ_SCALE=10 for a long soak), never below 1.
 */
export function fuzzParameters(numRuns: number): { seed: number; numRuns: number; endOnFailure: boolean } {
  const scale = Number(process.env.FUZZ_SCALE ?? '1');
  return {
    seed: fuzzSeed(),
    numRuns: Math.max(1, Math.round(numRuns * (Number.isFinite(scale) && scale > 0 ? scale : 1))),
    // A failing request is replayed as is: shrinking against a live system costs time and rarely helps more.
    endOnFailure: true,
  };
}

/** Strings that broke parsers, databases, key builders and loggers somewhere before. */
export const NOTORIOUS_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u0041\u0042',
  '\u200b',
  '\ufeff',
  'İ',
  'ß',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  '🔐'.repeat(40),
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '0x7fffffff',
  '{"$gt":""}',
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  '\\',
  '%',
  '%00',
  '%zz',
  '%2e%2e%2f',
  '../../../../etc/passwd',
  '..\\..\\windows',
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  '<script>alert(1)</script>',
  '\r\nX-Injected: 1',
  '{u:x}:s:y',
  '*',
  '?',
  '#',
  '.',
  '..',
];

/** Any string: printable, binary (lone surrogates, controls), notorious, or long. */
export function hostileString(maxLength = 300): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength }) },
    { weight: 3, arbitrary: fc.constantFrom(...NOTORIOUS_STRINGS) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom('a', '\u0000', 'é', '🔐', '%'),
          fc.integer({ min: Math.min(100, maxLength), max: Math.max(10 * maxLength, 200) }),
        )
        .map(([c, n]) => c.repeat(n)),
    },
    { weight: 2, arbitrary: fc.emailAddress() },
  );
}

/** Any JSON value, with hostile strings in it. */
export function hostileJsonValue(): fc.Arbitrary<unknown> {
  const leaf = fc.oneof(
    { weight: 4, arbitrary: hostileString() },
    { weight: 1, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
    { weight: 1, arbitrary: fc.constantFrom(true, false, null, 0, -0, Number.MAX_SAFE_INTEGER + 2, 1e308) },
  );
  return fc.oneof(
    { weight: 4, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(leaf, { maxLength: 5 }) },
    { weight: 1, arbitrary: fc.dictionary(hostileString(20), leaf, { maxKeys: 4 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
}

/**
 * A JSON object shaped like what a route expects: each expected field absent, well-formed or
 * hostile, sometimes with extra fields (including prototype-pollution keys).
 */
export function bodyShapedLike(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(fields).map(([name, plausible]) =>
    fc.oneof(
      { weight: 3, arbitrary: plausible.map((v) => [name, v] as const) },
      { weight: 3, arbitrary: hostileJsonValue().map((v) => [name, v] as const) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
  );
  const extras = fc.oneof(
    { weight: 5, arbitrary: fc.constant([] as (readonly [string, unknown])[]) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc.tuple(fc.oneof(hostileString(20), fc.constantFrom('__proto__', 'constructor', 'role', 'id', 'isAdmin')), hostileJsonValue()),
        { minLength: 1, maxLength: 3 },
      ),
    },
  );
  return fc.tuple(fc.tuple(...entries), extras).map(([present, extra]) => {
    const body: Record<string, unknown> = {};
    for (const entry of [...present, ...extra]) {
      // defineProperty: a literal "__proto__" key must end up in the JSON text, not on the prototype.
      if (entry) Object.defineProperty(body, entry[0], { value: entry[1], enumerable: true, configurable: true, writable: true });
    }
    return body;
  });
}

/** A request body on the wire: bytes plus the headers that describe them. */
export interface WireBody {
  contentType?: string;
  contentEncoding?: string;
  payload: Buffer;
}

export const CONTENT_TYPES: readonly string[] = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=utf-16',
  'application/json; charset=utf-16le',
  'application/json; charset=utf-16be',
  'application/json; charset=utf-7',
  'application/json; charset=utf-32',
  'application/json; charset="UTF-8"',
  'application/json; charset=latin1',
  'application/json; charset=nonsense',
  'application/json;;;',
  'application/vnd.api+json',
  'application/merge-patch+json',
  'text/plain',
  'text/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  '*/*',
  'json',
  '',
];

/** A content type: a known one (proper, odd or wrong), or any string. */
export function contentType(): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((s) => s.replace(/[\r\n]/g, '')) },
  );
}

/** Charsets a client may declare for a JSON body; body-parser can decode every `utf-*` one. */
export const BODY_CHARSETS = ['utf-8', 'utf-16le', 'utf-16be', 'utf-16', 'utf-7', 'latin1'] as const;
export type BodyCharset = (typeof BODY_CHARSETS)[number];

/** `text` encoded as `charset` would have it (utf-16 with a byte-order mark, utf-7 one character per shift). */
export function encodeText(text: string, charset: BodyCharset): Buffer {
  switch (charset) {
    case 'utf-8':
      return Buffer.from(text, 'utf8');
    case 'utf-16le':
      return Buffer.from(text, 'utf16le');
    case 'utf-16be':
      return Buffer.from(text, 'utf16le').swap16();
    case 'utf-16':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 'latin1':
      return Buffer.from(text, 'latin1');
    case 'utf-7': {
      // RFC 2152: letters, digits and a few marks as themselves; anything else as "+<base64 of UTF-16BE>-".
      let out = '';
      for (const c of text) {
        out += /^[A-Za-z0-9'(),./:? \t\r\n-]$/.test(c)
          ? c
          : `+${Buffer.from(c, 'utf16le').swap16().toString('base64').replace(/=+$/, '')}-`;
      }
      return Buffer.from(out, 'ascii');
    }
  }
}

/** How a charset parameter may be spelled: any case, quoted or not, with odd spacing. */
function charsetParameter(charset: string): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(charset, charset.toUpperCase()), fc.boolean(), fc.constantFrom('; ', ';', ' ; '))
    .map(([name, quoted, separator]) => `application/json${separator}charset=${quoted ? `"${name}"` : name}`);
}

/**
 * A JSON body in some charset, with the content type that declares it (or a made-up charset name):
 * how a depth or size check on UTF-8 bytes is bypassed when the parser decodes other charsets.
 * Deep nesting is hidden behind a string holding U+2200 (bytes 00 22 in UTF-16LE: a lone quote to
 * a byte scanner).
 */
export function charsetBody(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<WireBody> {
  const text = fc.oneof(
    { weight: 3, arbitrary: bodyShapedLike(fields).map((b) => JSON.stringify(b)) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 5000 }).map((depth) => `["\u2200",${'['.repeat(depth)}${']'.repeat(depth)}]`) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`) },
  );
  const declared = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...BODY_CHARSETS).map((charset) => ({ charset, name: charset })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...BODY_CHARSETS),
          fc.constantFrom('utf8', 'utf-32', 'ucs-2', 'iso-8859-1', 'us-ascii', 'cesu-8', 'utf-9', 'x-unknown', 'utf-'),
        )
        .map(([charset, name]) => ({ charset, name })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...BODY_CHARSETS), fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/))
        .map(([charset, name]) => ({ charset, name })),
    },
  );
  return fc
    .tuple(text, declared)
    .chain(([t, { charset, name }]) => charsetParameter(name).map((contentType) => ({ contentType, payload: encodeText(t, charset) })))
    .map((body) => withShortDescription(body));
}

/** The body of a request to a route expecting `fields`: well-shaped JSON most of the time, anything otherwise. */
export function wireBody(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<WireBody> {
  const json = (value: unknown) => Buffer.from(JSON.stringify(value) ?? 'null', 'utf8');
  const text = fc.oneof(
    { weight: 6, arbitrary: bodyShapedLike(fields).map(json) },
    { weight: 2, arbitrary: hostileJsonValue().map(json) },
    { weight: 1, arbitrary: bodyShapedLike(fields).chain((b) => fc.nat({ max: 200 }).map((n) => json(b).subarray(0, n))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('', '{', '{"email":', '[', '[[[[[[[[[[', '{"a":1,"a":2}', 'true', '1e999', '"\\ud800"', '\ufeff{}')
        .map((s) => Buffer.from(s)),
    },
    { weight: 1, arbitrary: fc.nat({ max: 3000 }).map((depth) => Buffer.from('['.repeat(depth) + ']'.repeat(depth))) },
    { weight: 1, arbitrary: fc.integer({ min: 90_000, max: 200_000 }).map((n) => json({ email: 'a@b.co', password: 'x'.repeat(n) })) },
  );
  const described = fc
    .record({
      contentType: fc.option(fc.oneof({ weight: 4, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: contentType() }), {
        nil: undefined,
        freq: 10,
      }),
      // Mostly none: a declared encoding the bytes do not match is only one of many ways to be wrong.
      contentEncoding: fc.oneof(
        { weight: 8, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown', 'gzip, gzip') },
      ),
      payload: text,
    })
    .map((body) => withShortDescription(body));
  return fc.oneof({ weight: 8, arbitrary: described }, { weight: 1, arbitrary: charsetBody(fields) });
}

/** Counterexamples print a body as a short text, not as a byte list thousands of entries long. */
function withShortDescription(body: WireBody): WireBody {
  return Object.defineProperty({ ...body }, fc.toStringMethod, {
    value: () => {
      const text = body.payload.toString('utf8');
      const shown = text.length > 160 ? `${JSON.stringify(text.slice(0, 160))}… (${body.payload.length} bytes)` : JSON.stringify(text);
      return `{contentType: ${JSON.stringify(body.contentType)}, contentEncoding: ${JSON.stringify(body.contentEncoding)}, payload: ${shown}}`;
    },
  });
}

/** A header value as bytes: ASCII, Latin-1 / UTF-8 high bytes, controls, or very long. */
export function headerValueBytes(maxLength = 300): fc.Arbitrary<Buffer> {
  const usable = (b: Buffer) => Buffer.from(b.filter((byte) => byte !== 0x0d && byte !== 0x0a));
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength }).map((s) => Buffer.from(s, 'latin1')) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength }).map((s) => Buffer.from(s, 'utf8')) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength }).map((a) => usable(Buffer.from(a))) },
    { weight: 1, arbitrary: fc.constantFrom(...NOTORIOUS_STRINGS).map((s) => usable(Buffer.from(s, 'utf8'))) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('a', 'é', ',', ' '), fc.integer({ min: 1000, max: 20_000 }))
        .map(([c, n]) => Buffer.from(c.repeat(n), 'utf8')),
    },
  );
}

/** X-Forwarded-For values: plausible address lists, garbage, and long chains. */
export function forwardedFor(): fc.Arbitrary<Buffer> {
  const address = fc.oneof(
    fc.ipV4(),
    fc.ipV6(),
    fc.constantFrom('127.0.0.1', '::1', '::ffff:127.0.0.1', 'unknown', '', '256.1.1.1', '1.2.3', '[::1]:80', 'fe80::1%eth0'),
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.array(address, { minLength: 1, maxLength: 6 }).map((list) => Buffer.from(list.join(', '), 'latin1')) },
    { weight: 1, arbitrary: fc.array(fc.ipV4(), { minLength: 200, maxLength: 600 }).map((list) => Buffer.from(list.join(','), 'latin1')) },
    { weight: 2, arbitrary: headerValueBytes(200) },
  );
}

/** A response as read from the socket. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawRequest {
  method: string;
  /** Sent as is: the caller decides the encoding (or the lack of it). */
  path: string;
  /** Header values as bytes or strings; sent in this order, exactly. */
  headers?: [string, string | Buffer][];
  body?: Buffer;
}

/**
 * One HTTP/1.1 request over a fresh socket (`Connection: close`), written byte for byte: no
 * header-value validation, so the server sees exactly the bytes a hostile client would send.
 * `Host` and `Content-Length` (when there is a body) are added unless given.
 */
export function rawRequest(baseUrl: string, request: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const headers = request.headers ?? [];
  const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
  const lines: Buffer[] = [Buffer.from(`${request.method} ${request.path} HTTP/1.1\r\n`, 'latin1')];
  if (!has('host')) lines.push(Buffer.from(`Host: ${hostname}:${port}\r\n`));
  lines.push(Buffer.from('Connection: close\r\n'));
  if (request.body && !has('content-length') && !has('transfer-encoding'))
    lines.push(Buffer.from(`Content-Length: ${request.body.length}\r\n`));
  for (const [name, value] of headers) {
    lines.push(Buffer.from(`${name}: `, 'latin1'), typeof value === 'string' ? Buffer.from(value, 'latin1') : value, Buffer.from('\r\n'));
  }
  lines.push(Buffer.from('\r\n'));
  if (request.body) lines.push(request.body);

  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${timeoutMs} ms to ${request.method} ${request.path.slice(0, 100)}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A server may close while the body is still being written (e.g. 413): the response is what counts.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks);
      try {
        resolve(parseResponse(raw));
      } catch (error) {
        reject(
          new Error(
            `${(error as Error).message} (${request.method} ${request.path.slice(0, 100)}): ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`,
          ),
        );
      }
    });
    socket.write(Buffer.concat(lines));
  });
}

function parseResponse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error('connection closed without a response');
  const [statusLine, ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!status) throw new Error(`not an HTTP response: ${statusLine}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  return { status: Number(status[1]), headers, body: body.toString('utf8') };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/**
 * What a response must never contain: a stack frame, an internal path or a source location.
 * Returns the offending fragment, or undefined when the text is clean.
 */
export function internalDetailIn(text: string): string | undefined {
  const patterns = [
    /\/work\//,
    /node_modules/,
    /\.ts:\d+/,
    /\.js:\d+:\d+/,
    /\bat [\w$.<>]+ \(/,
    /(^|\n)\s*at \S/,
    /"stack"/,
    /\b[A-Z]\w*Error: /,
  ];
  for (const pattern of patterns) {
    const match = pattern.exec(text);
    if (match) return text.slice(Math.max(0, match.index - 40), match.index + 80);
  }
  return undefined;
}

/** Percent-encodes the UTF-8 bytes of any string (lone surrogates included, unlike encodeURIComponent). */
export function percentEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Settings that take rate limits and lockout out of the way for suites that are about something
 * else (fuzzing sends thousands of requests from one address).
 */
const NO_LIMIT = '10000000';
export const UNLIMITED_BUDGETS = {
  gatewayEnv: { RATE_LIMIT_GENERAL_LIMIT: NO_LIMIT, RATE_LIMIT_AUTH_LIMIT: NO_LIMIT, RATE_LIMIT_REFRESH_LIMIT: NO_LIMIT },
  authEnv: {
    LOCKOUT_PAIR_MAX_FAILURES: NO_LIMIT,
    LOCKOUT_EMAIL_MAX_FAILURES: NO_LIMIT,
    LOCKOUT_IP_MAX_FAILURES: NO_LIMIT,
    PASSWORD_CHANGE_MAX_FAILURES: NO_LIMIT,
    RATE_LIMIT_AUTH_LIMIT: NO_LIMIT,
    RATE_LIMIT_REFRESH_LIMIT: NO_LIMIT,
    RATE_LIMIT_REGISTRATION_LIMIT: NO_LIMIT,
  },
} as const;
