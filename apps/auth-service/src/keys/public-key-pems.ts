const PUBLIC_KEY_PEM = /-----BEGIN PUBLIC KEY-----[A-Za-z0-9+/=\s]+?-----END PUBLIC KEY-----/g;

/**
 * Splits concatenated PEM public keys (SPKI) into one PEM each. Anything else in the text, a
 * private key in particular, is refused: this setting must only ever carry public halves.
 */
export function parsePublicKeyPems(text: string): string[] {
  const pems = text.match(PUBLIC_KEY_PEM) ?? [];
  if (text.replace(PUBLIC_KEY_PEM, '').trim() !== '') {
    throw new Error('JWT_ADDITIONAL_PUBLIC_KEYS must contain only PEM public keys (-----BEGIN PUBLIC KEY-----)');
  }
  return pems;
}
