import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

import { Inject, Injectable, Logger } from '@nestjs/common';

import { failureReason } from '@nest-hardening/errors';

import { AUTH_MODULE_OPTIONS, type AuthModuleOptions } from './auth.module-definition';

/** How often a store that holds no key may read the set again. */
const NO_KEY_RETRY_MS = 1000;

interface Jwks {
  keys?: JsonWebKey[];
}

/**
 * Public keys by `kid`, from auth-service's JWKS (fetched and cached) or from keys held in process.
 * Only P-256 signing keys are accepted, so a key can never be used for another algorithm.
 * An unknown `kid` triggers at most one fetch per cooldown, however many tokens carry it, and the
 * set is re-read in the background once it is older than `jwksMaxAgeMs`: a key published ahead of
 * a rotation is known here before the first token it signs arrives (docs/key-rotation.md).
 */
@Injectable()
export class PublicKeyStore {
  private readonly logger = new Logger(PublicKeyStore.name);
  private keys = new Map<string, KeyObject>();
  private jwks: JsonWebKey[] = [];
  /**
   * Bumped whenever the published key material changes (a kid added or removed, or a kid's key
   * replaced), so tokens verified with a withdrawn key are dropped from the guard's cache. Never
   * bumped by a re-read that finds the same keys, which would empty that cache needlessly.
   */
  version = 0;
  /**
   * When the last read started, on the monotonic clock: a wall clock stepped back (NTP) must not
   * hold off the re-read that drops a withdrawn key, nor the read of a new kid, for the length of the step.
   */
  private lastFetch = -Infinity;
  private inFlight?: Promise<void>;

  constructor(@Inject(AUTH_MODULE_OPTIONS) private readonly options: AuthModuleOptions) {}

  async get(kid: string): Promise<KeyObject | undefined> {
    const known = this.keys.get(kid);
    if (known) {
      // A failed read is logged in load() and keeps the keys held; nothing waits for it.
      this.refreshIfStale();
      return known;
    }
    // A read under way is awaited (it may bring this kid); otherwise at most one read per cooldown,
    // also while no key is held (a failing or empty JWKS must not turn every request into a read).
    await this.readAgainWithinCooldown();
    return this.keys.get(kid);
  }

  /**
   * After a token was refused: re-reads the set, at most once per cooldown (as for an unknown kid),
   * and answers whether the key material changed since `version`. A key replaced under its kid (a
   * fixed `JWT_KEY_ID`, a compromised key withdrawn) is so learnt from the first token the new key
   * signs, not at the next scheduled read: the known kid alone would never prompt one.
   */
  async changedSince(version: number): Promise<boolean> {
    await this.readAgainWithinCooldown();
    return this.version !== version;
  }

  /**
   * The keys accepted here, as a JWKS (public members only), read again first when older than the
   * refetch cooldown: what the gateway republishes, so it never advertises a key it would refuse.
   */
  async publicJwks(): Promise<JsonWebKey[]> {
    await this.readAgainWithinCooldown();
    return this.jwks;
  }

  /** Starts a background re-read once the copy is older than `jwksMaxAgeMs`; never waits (failures are logged in load()). */
  refreshIfStale(): void {
    if (performance.now() - this.lastFetch >= (this.options.jwksMaxAgeMs ?? 60_000)) this.refresh().catch(() => undefined);
  }

  /** Between two reads for unknown kids; at most 1 s while no key is held (auth-service starting, or a failed read). */
  private get cooldownMs(): number {
    const cooldown = this.options.jwksRefetchCooldownMs ?? 5000;
    return this.keys.size === 0 ? Math.min(cooldown, NO_KEY_RETRY_MS) : cooldown;
  }

  /** Waits for a read under way, or starts one when the last began at least a cooldown ago; else returns at once. */
  private async readAgainWithinCooldown(): Promise<void> {
    if (this.inFlight || performance.now() - this.lastFetch >= this.cooldownMs) await this.refresh();
  }

  private refresh(): Promise<void> {
    this.inFlight ??= this.load().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async load(): Promise<void> {
    this.lastFetch = performance.now();
    let jwks: JsonWebKey[] = [];
    if (this.options.publicKeys) {
      jwks = this.options.publicKeys();
    } else if (this.options.jwksUrl) {
      try {
        const response = await fetch(this.options.jwksUrl, { signal: AbortSignal.timeout(2000) });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const body = (await response.json()) as Jwks | null;
        // An answer that is no key set (RFC 7517: "keys" is required) is a failed read, the keys held
        // are kept: not an empty set, which would refuse every token.
        const keys: unknown = body !== null && typeof body === 'object' ? body.keys : undefined;
        if (!Array.isArray(keys)) throw new Error('the answer is not a JWKS (no "keys" array)');
        jwks = keys as JsonWebKey[];
      } catch (error) {
        this.logger.warn(`could not fetch JWKS from ${this.options.jwksUrl}: ${failureReason(error)}`);
        return;
      }
    }
    const next = new Map<string, KeyObject>();
    const published: JsonWebKey[] = [];
    for (const jwk of jwks) {
      // An entry that is not an object costs only itself, like a malformed key.
      if (jwk === null || typeof jwk !== 'object') continue;
      const { kid, kty, crv, use, x, y } = jwk as JsonWebKey & { kid?: string; use?: string };
      if (!kid || kty !== 'EC' || crv !== 'P-256' || (use !== undefined && use !== 'sig') || next.has(kid)) continue;
      try {
        // Built from the public members alone, so a private `d` in a bad JWKS is neither used nor republished.
        const publicOnly = { kty, crv, x, y } as JsonWebKey;
        next.set(kid, createPublicKey({ key: publicOnly, format: 'jwk' }));
        published.push({ ...publicOnly, kid, alg: 'ES256', use: 'sig' });
      } catch {
        this.logger.warn(`ignoring malformed JWK ${kid}`);
      }
    }
    // Compared per kid by key material (KeyObject.equals), not by kid alone: a key replaced under
    // the same kid (a fixed JWT_KEY_ID, a compromised key withdrawn) must invalidate what it verified.
    // Runs once per (re)load, never per request.
    const changed = next.size !== this.keys.size || [...next].some(([kid, key]) => !this.keys.get(kid)?.equals(key));
    this.keys = next;
    this.jwks = published;
    if (changed) this.version++;
  }
}
