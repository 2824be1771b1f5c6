import type { AuthenticatedUser } from './authenticated-user.interface';

interface Entry {
  token: string;
  user: AuthenticatedUser;
  keySetVersion: number;
}

/**
 * Access tokens whose signature and claims were already verified, keyed by the exact token string,
 * until they expire. Verifying ES256 is the most expensive step of an authenticated request; the
 * same bytes always verify the same way, so a repeat only needs the expiry and the session check
 * (which the guard still runs on every request: revocation is never cached here). Entries are
 * dropped when the public key set changes, so a key withdrawn from the JWKS stops working at once.
 * Bounded: the oldest entry is evicted beyond `maxEntries`.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly maxEntries = 10_000) {}

  get(token: string, keySetVersion: number): AuthenticatedUser | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (!entry || entry.token !== token) return undefined;
    if (entry.keySetVersion !== keySetVersion || entry.user.exp * 1000 <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.user;
  }

  set(token: string, user: AuthenticatedUser, keySetVersion: number): void {
    if (this.maxEntries <= 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(keyOf(token), { token, user, keySetVersion });
  }
}

/**
 * The map key of a token: its last 43 characters, which lie in its signature (86 characters for
 * ES256), so no two tokens the issuer signed share one, and a short key is cheaper to hash than the
 * whole token (a fresh string on every request). A hit is confirmed against the whole token, so a
 * crafted token that ends the same way only misses the cache (and then fails verification).
 */
function keyOf(token: string): string {
  return token.length > KEY_LENGTH ? token.slice(-KEY_LENGTH) : token;
}

const KEY_LENGTH = 43;
