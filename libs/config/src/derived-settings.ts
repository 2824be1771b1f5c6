/** Values every app derives the same way from its validated settings. */

/** `/docs` is served unless turned off, and in production only when turned on: the API description helps attackers too. */
export function docsEnabled(env: { DOCS_ENABLED?: boolean; NODE_ENV: string }): boolean {
  return env.DOCS_ENABLED ?? env.NODE_ENV !== 'production';
}

/** Where auth-service publishes the keys that verify access tokens. */
export function jwksUrlOf(authServiceUrl: string): string {
  return new URL('/.well-known/jwks.json', authServiceUrl).toString();
}
