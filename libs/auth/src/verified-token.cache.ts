import type { AuthenticatedUser } from './authenticated-user.interface';

interface Entry {
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
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.keySetVersion !== keySetVersion || entry.user.exp * 1000 <= Date.now()) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.user;
  }

  set(token: string, user: AuthenticatedUser, keySetVersion: number): void {
    if (this.maxEntries <= 0) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(token, { user, keySetVersion });
  }
}
