/**
 * Cache-Control of every published JWKS. A rotation step waits at least this long (docs/key-rotation.md),
 * so no cache in between still serves a key set from before the step.
 */
export const JWKS_CACHE_CONTROL = 'public, max-age=300';
