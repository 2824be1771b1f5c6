/**
 * The first `maxLength` characters of `text` as a string of their own, for what an event keeps of
 * a request. A `slice()` or `trim()` of a longer string is a view onto it, which keeps the whole
 * original alive as long as the view: 512 characters cut from a 16 kB header, or an email trimmed
 * out of a 90 kB padded body, would cost the header or the body for as long as an event waits in a
 * buffer. The copy goes through UTF-16 code units, so every string (lone surrogates included) comes
 * back unchanged.
 *
 * @example
 * const userAgent = keptText(req.headers['user-agent'] ?? '', 512);
 */
export function keptText(text: string, maxLength = text.length): string {
  return Buffer.from(text.slice(0, maxLength), 'utf16le').toString('utf16le');
}
