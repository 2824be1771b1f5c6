import { randomUUID } from 'node:crypto';

import { rateLimitIpKey } from '@nest-hardening/client-ip';

import type { ResolvedLockoutOptions } from './lockout-options.interface';
import type { LockoutReservation } from './lockout-reservation.interface';
import { accountState, addressState, ipState } from './lockout-state.assemble';
import type { LockoutAddressState, LockoutState } from './lockout-state.interface';
import { lockoutSubject, type LockoutSubject } from './lockout.keys';
import {
  LockoutStore,
  type FailureOutcome,
  type LockoutRule,
  type ReserveOutcome,
  type SuccessOutcome,
  type UnlockOptions,
} from './lockout.store';
import { lockoutAddressListTtlMs } from './scripts/prelude.script';

/** A value that lapses at `expiresAt` (epoch ms), like a Redis key set with PX. Lock values are their own end. */
interface Expiring {
  value: number;
  expiresAt: number;
}

/** Member (reservation id or address hash) → time (epoch ms); window entries older than the window no longer count. */
type Stamps = Map<string, number>;

interface PairEntry {
  pending: Stamps;
  failed: Stamps;
  lock?: Expiring;
  level?: Expiring;
  /** Everything in it has lapsed by then. */
  expiresAt: number;
}

interface AccountEntry {
  kind: 'account';
  /** By address hash, least recently written first. */
  pairs: Map<string, PairEntry>;
  pending: Stamps;
  streak?: Expiring;
  lock?: Expiring;
  /** Address hash → last successful login; the whole list lapses `knownAddressTtlMs` after the last one. */
  known: Stamps;
  knownExpiresAt: number;
  /** Address hash → last attempt, oldest first, at most `addressCap`. */
  seen: Stamps;
  seenExpiresAt: number;
  notified?: Expiring;
  expiresAt: number;
}

interface AddressEntry {
  kind: 'address';
  pending: Stamps;
  failed: Stamps;
  block?: Expiring;
  expiresAt: number;
}

type Entry = AccountEntry | AddressEntry;

/**
 * The {@link LockoutStore} of `LockoutModule.forRoot({ store: 'memory' })`: the rules of the Redis
 * scripts (scripts/*.script.ts) on plain maps, for an adopter's unit tests without Redis. Never for
 * production: each process counts alone and forgets everything on restart. Each operation runs
 * synchronously, so it is atomic like a script: concurrent logins cannot all pass the check before
 * one is counted. Only the current key secret applies (a rotation needs a restart, which empties it).
 *
 * Memory is bounded: lapsed entries are dropped when met (an account whose counts, locks and known
 * addresses have all lapsed goes with its address list), and beyond `memoryMaxEntries` (accounts,
 * addresses and pairs together) the least recently written account or address is forgotten, its
 * locks with it. An admin unlock clears every pair of the account at once (Redis needs an unlock
 * generation for the addresses dropped from the bounded list; here they are in hand).
 */
export class MemoryLockoutStore extends LockoutStore {
  /** `e:<email hash>` and `ip:<address hash>`, least recently written first. */
  private readonly entries = new Map<string, Entry>();
  private pairCount = 0;
  private readonly addressListTtlMs: number;

  constructor(
    private readonly options: ResolvedLockoutOptions,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.addressListTtlMs = lockoutAddressListTtlMs(options);
  }

  /** Accounts, addresses and pairs held (what `memoryMaxEntries` bounds). */
  get size(): number {
    return this.entries.size + this.pairCount;
  }

  subject(normalizedEmail: string, ip: string): LockoutSubject {
    return lockoutSubject(this.options.keySecret, normalizedEmail, rateLimitIpKey(ip));
  }

  async reserve(email: string, ip: string, userAgent?: string): Promise<ReserveOutcome> {
    const o = this.options;
    const now = this.now();
    const subject = this.subject(email, ip);
    const { emailHash: eh, addressHash: ah } = subject;
    const address = this.findAddress(ah, now);
    const account = this.findAccount(eh, now);
    const pair = account && this.findPair(account, ah, now);

    let waitMs = 0;
    let rule: LockoutRule = 'ip';
    const refuse = (why: LockoutRule, ms: number) => {
      if (ms > waitMs) [waitMs, rule] = [ms, why];
    };
    refuse('ip', remaining(address?.block, now));
    if (used(address?.pending, address?.failed, o.ipWindowMs, now) >= o.ipMaxFailures) {
      refuse('ip', fullWait(address?.pending, address?.failed, o.ipWindowMs, o.ipBlockMs, now));
    }
    refuse('pair', remaining(pair?.lock, now));
    const exempt = account !== undefined && this.isKnown(account, ah, now);
    if (!exempt) refuse('email', remaining(account?.lock, now));
    if (used(pair?.pending, pair?.failed, o.pairWindowMs, now) >= o.pairMaxFailures) {
      refuse('pair', fullWait(pair?.pending, pair?.failed, o.pairWindowMs, this.lockFor((live(pair?.level, now)?.value ?? 0) + 1), now));
    }
    if (!exempt) {
      // The account ceiling counts failures since the last successful login, not per window.
      if (account) prune(account.pending, now - o.emailWindowMs);
      const streak = live(account?.streak, now);
      // Reached: refused until the streak ends, which expires with the lock its last failure started.
      if (streak && streak.value >= o.emailMaxFailures) refuse('email', streak.expiresAt - now);
      // Pending attempts may reach it a moment from now and start a lock of emailLockMs.
      else if ((streak?.value ?? 0) + (account?.pending.size ?? 0) >= o.emailMaxFailures) refuse('email', o.emailLockMs + 1000);
    }
    if (waitMs > 0) return { allowed: false, waitMs: Math.ceil(waitMs), rule };

    const id = randomUUID();
    const writtenAddress = this.address(ah, now);
    const writtenAccount = this.account(eh, now);
    const writtenPair = this.pair(writtenAccount, ah, now);
    writtenPair.pending.set(id, now);
    extend(writtenPair, now + o.pairWindowMs);
    extend(writtenAccount, now + o.pairWindowMs);
    if (!exempt) {
      writtenAccount.pending.set(id, now);
      extend(writtenAccount, now + o.emailWindowMs);
    }
    this.trackAddress(writtenAccount, ah, now);
    writtenAddress.pending.set(id, now);
    extend(writtenAddress, now + o.ipWindowMs);
    this.makeRoom(now, [writtenAccount, writtenAddress], writtenPair);
    return { allowed: true, reservation: { id, email, ip, userAgent, ...subject, knownAddress: exempt } };
  }

  async confirmFailure(r: LockoutReservation): Promise<FailureOutcome> {
    const o = this.options;
    const now = this.now();
    const outcome: FailureOutcome = { pairLockMs: 0, backoffLevel: 0, emailLockMs: 0, ipBlockMs: 0 };

    const account = this.findAccount(r.emailHash, now);
    if (account) {
      this.touch(`e:${r.emailHash}`, account);
      const pair = this.findPair(account, r.addressHash, now);
      const failures = pair ? confirm(pair, r.id, o.pairWindowMs, now) : -1;
      if (pair && failures >= 0) {
        this.trackAddress(account, r.addressHash, now);
        if (failures >= o.pairMaxFailures && !live(pair.lock, now)) {
          const level = (live(pair.level, now)?.value ?? 0) + 1;
          const ms = this.lockFor(level);
          // The level decays backoffResetMs after the END of this lock, not after its start.
          pair.level = { value: level, expiresAt: now + ms + o.backoffResetMs };
          pair.lock = startLock(pair, ms, now);
          extend(pair, pair.level.expiresAt);
          [outcome.pairLockMs, outcome.backoffLevel] = [ms, level];
        }
        extend(account, pair.expiresAt);
      }
      // Attempts from known addresses were never reserved against the account, so they do not count here.
      prune(account.pending, now - o.emailWindowMs);
      if (account.pending.delete(r.id)) {
        const streak = (live(account.streak, now)?.value ?? 0) + 1;
        account.streak = { value: streak, expiresAt: now + o.emailLockMs };
        extend(account, account.streak.expiresAt);
        if (streak >= o.emailMaxFailures && !live(account.lock, now)) {
          account.lock = { value: now + o.emailLockMs, expiresAt: now + o.emailLockMs };
          outcome.emailLockMs = o.emailLockMs;
        }
      }
    }

    const address = this.findAddress(r.addressHash, now);
    if (address) {
      this.touch(`ip:${r.addressHash}`, address);
      if (confirm(address, r.id, o.ipWindowMs, now) >= o.ipMaxFailures && !live(address.block, now)) {
        address.block = startLock(address, o.ipBlockMs, now);
        outcome.ipBlockMs = o.ipBlockMs;
      }
    }
    return outcome;
  }

  async recordSuccess(r: LockoutReservation): Promise<SuccessOutcome> {
    const o = this.options;
    const now = this.now();
    const account = this.account(r.emailHash, now);
    const emailLockEnded = live(account.lock, now) !== undefined;
    // Only this attempt is given back: other attempts of the pair still being verified stay counted.
    const pair = this.findPair(account, r.addressHash, now);
    if (pair) {
      pair.failed.clear();
      pair.pending.delete(r.id);
    }
    account.pending.delete(r.id);
    account.streak = undefined;
    account.lock = undefined;
    const known = this.knownOf(account, now);
    known.delete(r.addressHash);
    known.set(r.addressHash, now);
    prune(known, now - o.knownAddressTtlMs);
    for (const oldest of known.keys()) {
      if (known.size <= o.addressCap) break;
      known.delete(oldest);
    }
    account.knownExpiresAt = now + o.knownAddressTtlMs;
    extend(account, account.knownExpiresAt);
    this.findAddress(r.addressHash, now)?.pending.delete(r.id);
    this.makeRoom(now, [account]);
    return { emailLockEnded, knownSince: now };
  }

  async forgetKnownAddress(r: LockoutReservation, knownSince: number): Promise<void> {
    const account = this.findAccount(r.emailHash, this.now());
    if (account?.known.get(r.addressHash) === knownSince) account.known.delete(r.addressHash);
  }

  async release(r: LockoutReservation): Promise<boolean> {
    const now = this.now();
    const account = this.findAccount(r.emailHash, now);
    const pair = account && this.findPair(account, r.addressHash, now);
    const removed = [pair?.pending.delete(r.id), account?.pending.delete(r.id), this.findAddress(r.addressHash, now)?.pending.delete(r.id)];
    return removed.includes(true);
  }

  async readState(email: string, ip?: string): Promise<LockoutState> {
    const now = this.now();
    const subject = this.subject(email, ip ?? '0.0.0.0');
    const state = this.collect(this.findAccount(subject.emailHash, now), now);
    if (ip !== undefined) {
      const address = this.findAddress(subject.addressHash, now);
      const cutoff = now - this.options.ipWindowMs;
      state.ip = ipState(
        subject.addressHash,
        live(address?.block, now)?.value ?? 0,
        inWindow(address?.failed, cutoff),
        inWindow(address?.pending, cutoff),
      );
    }
    return state;
  }

  /**
   * Clears every lock, window and backoff level of the account; the notification throttle and
   * address blocks stay, and known addresses too unless `forgetKnownAddresses`.
   */
  async unlock(email: string, options: UnlockOptions = {}): Promise<LockoutState> {
    const now = this.now();
    const account = this.findAccount(this.subject(email, '0.0.0.0').emailHash, now);
    const previous = this.collect(account, now);
    if (account) {
      this.pairCount -= account.pairs.size;
      account.pairs.clear();
      account.seen.clear();
      account.pending.clear();
      account.streak = undefined;
      account.lock = undefined;
      if (options.forgetKnownAddresses) account.known.clear();
    }
    return previous;
  }

  async claimNotification(emailHash: string, always = false): Promise<boolean> {
    const now = this.now();
    const account = this.account(emailHash, now);
    if (!always && live(account.notified, now)) return false;
    account.notified = { value: 1, expiresAt: now + this.options.notificationIntervalMs };
    extend(account, account.notified.expiresAt);
    this.makeRoom(now, [account]);
    return true;
  }

  /** The account's state: its listed addresses most recent first, as the Redis state script reads it. */
  private collect(account: AccountEntry | undefined, now: number): LockoutState {
    if (!account) return accountState(0, 0, 0, []);
    const o = this.options;
    const known = this.knownOf(account, now);
    const addresses: LockoutAddressState[] = [...this.seenOf(account, now).keys()].reverse().map((ah) => {
      const pair = this.findPair(account, ah, now);
      const cutoff = now - o.pairWindowMs;
      return addressState(
        ah,
        live(pair?.lock, now)?.value ?? 0,
        live(pair?.level, now)?.value ?? 0,
        inWindow(pair?.failed, cutoff),
        inWindow(pair?.pending, cutoff),
        known.get(ah) ?? 0,
      );
    });
    return accountState(
      live(account.lock, now)?.value ?? 0,
      live(account.streak, now)?.value ?? 0,
      inWindow(account.pending, now - o.emailWindowMs),
      addresses,
    );
  }

  // Duration of the pair lock at a backoff level (1 = first lock); the exponent is capped so it stays finite.
  private lockFor(level: number): number {
    return Math.floor(Math.min(this.options.baseLockMs * 2 ** Math.min(level - 1, 40), this.options.maxLockMs));
  }

  private isKnown(account: AccountEntry, ah: string, now: number): boolean {
    const at = this.knownOf(account, now).get(ah);
    return at !== undefined && at > now - this.options.knownAddressTtlMs;
  }

  /** Records the attempt of `ah` in the account's bounded list; an address dropped from it keeps its pair state. */
  private trackAddress(account: AccountEntry, ah: string, now: number): void {
    const seen = this.seenOf(account, now);
    seen.delete(ah);
    seen.set(ah, now);
    prune(seen, now - this.addressListTtlMs);
    for (const oldest of seen.keys()) {
      if (seen.size <= this.options.addressCap) break;
      seen.delete(oldest);
    }
    // The list alone does not keep the account: with no count, lock or known address left it lists only zeros.
    account.seenExpiresAt = now + this.addressListTtlMs;
  }

  private knownOf(account: AccountEntry, now: number): Stamps {
    if (account.knownExpiresAt <= now) account.known.clear();
    return account.known;
  }

  private seenOf(account: AccountEntry, now: number): Stamps {
    if (account.seenExpiresAt <= now) account.seen.clear();
    return account.seen;
  }

  private findAccount(eh: string, now: number): AccountEntry | undefined {
    return this.find(`e:${eh}`, now) as AccountEntry | undefined;
  }

  private findAddress(ah: string, now: number): AddressEntry | undefined {
    return this.find(`ip:${ah}`, now) as AddressEntry | undefined;
  }

  private find(key: string, now: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry || entry.expiresAt > now) return entry;
    this.drop(key, entry);
    return undefined;
  }

  private findPair(account: AccountEntry, ah: string, now: number): PairEntry | undefined {
    const pair = account.pairs.get(ah);
    if (!pair || pair.expiresAt > now) return pair;
    account.pairs.delete(ah);
    this.pairCount--;
    return undefined;
  }

  private account(eh: string, now: number): AccountEntry {
    const key = `e:${eh}`;
    const entry = this.findAccount(eh, now) ?? {
      kind: 'account',
      pairs: new Map(),
      pending: new Map(),
      known: new Map(),
      knownExpiresAt: 0,
      seen: new Map(),
      seenExpiresAt: 0,
      expiresAt: now,
    };
    this.touch(key, entry);
    return entry;
  }

  private address(ah: string, now: number): AddressEntry {
    const entry = this.findAddress(ah, now) ?? { kind: 'address', pending: new Map(), failed: new Map(), expiresAt: now };
    this.touch(`ip:${ah}`, entry);
    return entry;
  }

  private pair(account: AccountEntry, ah: string, now: number): PairEntry {
    let pair = this.findPair(account, ah, now);
    if (pair) account.pairs.delete(ah);
    else this.pairCount++;
    pair ??= { pending: new Map(), failed: new Map(), expiresAt: now };
    account.pairs.set(ah, pair);
    return pair;
  }

  /** Moves an entry to the most recently written end. */
  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    if (entry.kind === 'account') this.pairCount -= entry.pairs.size;
  }

  /**
   * Keeps the size within `memoryMaxEntries`: drops lapsed entries first, then the least recently
   * written accounts and addresses other than those of the operation in hand, then that account's
   * least recently written pairs other than the one in hand.
   */
  private makeRoom(now: number, inHand: Entry[], pairInHand?: PairEntry): void {
    const max = this.options.memoryMaxEntries;
    if (this.size <= max) return;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAt <= now) this.drop(key, entry);
      else if (entry.kind === 'account') for (const ah of entry.pairs.keys()) this.findPair(entry, ah, now);
    }
    for (const [key, entry] of this.entries) {
      if (this.size <= max) return;
      if (!inHand.includes(entry)) this.drop(key, entry);
    }
    for (const entry of inHand) {
      if (entry.kind !== 'account') continue;
      for (const [ah, pair] of entry.pairs) {
        if (this.size <= max) return;
        if (pair === pairInHand) continue;
        entry.pairs.delete(ah);
        this.pairCount--;
      }
    }
  }
}

function live(value: Expiring | undefined, now: number): Expiring | undefined {
  return value && value.expiresAt > now ? value : undefined;
}

/** Milliseconds a lock has left (0 = none), as PTTL. */
function remaining(lock: Expiring | undefined, now: number): number {
  return live(lock, now) ? lock!.expiresAt - now : 0;
}

function extend(entry: { expiresAt: number }, until: number): void {
  entry.expiresAt = Math.max(entry.expiresAt, until);
}

function prune(stamps: Stamps, cutoff: number): void {
  for (const [member, at] of stamps) if (at <= cutoff) stamps.delete(member);
}

function inWindow(stamps: Stamps | undefined, cutoff: number): number {
  let count = 0;
  for (const at of stamps?.values() ?? []) if (at > cutoff) count++;
  return count;
}

/** Pending plus failed attempts still in the window; older ones are dropped (this also frees reservations of a crashed caller). */
function used(pending: Stamps | undefined, failed: Stamps | undefined, window: number, now: number): number {
  if (pending) prune(pending, now - window);
  if (failed) prune(failed, now - window);
  return (pending?.size ?? 0) + (failed?.size ?? 0);
}

/**
 * A full window still holds pending attempts that may all fail and start a lock of `lockMs` a
 * moment from now; announce that lock's end (plus a second for the verification in flight).
 */
function fullWait(pending: Stamps | undefined, failed: Stamps | undefined, window: number, lockMs: number, now: number): number {
  let oldest = now;
  for (const stamps of [pending, failed]) for (const at of stamps?.values() ?? []) oldest = Math.min(oldest, at);
  return Math.max(oldest + window - now, lockMs) + 1000;
}

/**
 * Moves a still-pending reservation to the failures; returns the failures in the window, or -1 if it
 * was not pending. A reservation older than the window has dropped out, as in the Redis scripts.
 */
function confirm(window: { pending: Stamps; failed: Stamps; expiresAt: number }, id: string, windowMs: number, now: number): number {
  prune(window.pending, now - windowMs);
  if (!window.pending.delete(id)) return -1;
  window.failed.set(id, now);
  prune(window.failed, now - windowMs);
  extend(window, now + windowMs);
  return window.failed.size;
}

/** A lock of `ms` from now; the window restarts after it, so the lock's end gives a fresh set of attempts. */
function startLock(window: { pending: Stamps; failed: Stamps; expiresAt: number }, ms: number, now: number): Expiring {
  window.pending.clear();
  window.failed.clear();
  extend(window, now + ms);
  return { value: now + ms, expiresAt: now + ms };
}
