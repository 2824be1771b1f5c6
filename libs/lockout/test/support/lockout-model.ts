import type { ResolvedLockoutOptions } from '../../src/lockout-options.interface';
import type { LockoutRule } from '../../src/lockout.store';

/**
 * The lockout rules of docs/lockout.md as a plain reference model, one operation at a time, on
 * names (emails and addresses as given) and a clock the caller passes in. Deliberately naive: it
 * keeps every pair of an account in hand, so an unlock clears them all directly (the stores bound
 * the address list and reach evicted addresses through an unlock generation; they must answer the
 * same). Windows and lapses follow the scripts' key semantics: an entry counts while newer than its
 * window, a window is emptied when its key lapses (window after its last write), a lock lives until
 * its end.
 */

interface Lapsing {
  value: number;
  until: number;
}

/** Entries id → time, the whole set lapsing at `until` (a ZSET with PEXPIRE). */
class Window {
  readonly at = new Map<string, number>();
  until = 0;

  live(now: number): Map<string, number> {
    if (this.until <= now) this.at.clear();
    return this.at;
  }

  add(id: string, now: number, ttl: number): void {
    this.live(now).set(id, now);
    this.until = now + ttl;
  }

  prune(cutoff: number, now: number): void {
    for (const [id, t] of this.live(now)) if (t <= cutoff) this.at.delete(id);
  }

  countAfter(cutoff: number, now: number): number {
    return [...this.live(now).values()].filter((t) => t > cutoff).length;
  }

  take(id: string, now: number): boolean {
    return this.live(now).delete(id);
  }

  clear(): void {
    this.at.clear();
  }
}

interface Pair {
  pending: Window;
  failed: Window;
  lock?: Lapsing;
  level?: Lapsing;
}

interface Account {
  pending: Window;
  streak?: Lapsing;
  lock?: Lapsing;
  /** Address → last successful login. */
  known: Window;
  /** Address → last attempt, least recent first. */
  seen: Window;
}

interface Address {
  pending: Window;
  failed: Window;
  block?: Lapsing;
}

export interface ModelReservation {
  id: string;
  email: string;
  ip: string;
  knownAddress: boolean;
}

export type ModelReserve = { allowed: true; reservation: ModelReservation } | { allowed: false; waitMs: number; rule: LockoutRule };

export interface ModelFailure {
  pairLockMs: number;
  backoffLevel: number;
  emailLockMs: number;
  ipBlockMs: number;
}

export interface ModelAddressState {
  ip: string;
  lockedUntil: number;
  backoffLevel: number;
  failures: number;
  pending: number;
  lastSuccessAt: number;
}

export interface ModelState {
  emailLockedUntil: number;
  emailFailures: number;
  emailPending: number;
  /** Listed addresses, most recent first. */
  addresses: ModelAddressState[];
  ip?: { blockedUntil: number; failures: number; pending: number };
}

const live = (v: Lapsing | undefined, now: number) => (v && v.until > now ? v : undefined);
const remaining = (v: Lapsing | undefined, now: number) => (live(v, now) ? v!.until - now : 0);

export class LockoutModel {
  private readonly pairs = new Map<string, Pair>();
  private readonly accounts = new Map<string, Account>();
  private readonly addresses = new Map<string, Address>();
  private nextId = 0;

  constructor(private readonly o: ResolvedLockoutOptions) {}

  /** How long an address stays listed after its last attempt (docs: 49 h by default). */
  private get listTtl(): number {
    return Math.max(this.o.pairWindowMs, this.o.emailWindowMs) + this.o.maxLockMs + this.o.backoffResetMs;
  }

  reserve(email: string, ip: string, now: number): ModelReserve {
    const o = this.o;
    const pair = this.pair(email, ip);
    const account = this.account(email);
    const address = this.address(ip);
    let waitMs = 0;
    let rule: LockoutRule = 'ip';
    const refuse = (why: LockoutRule, ms: number) => {
      if (ms > waitMs) [waitMs, rule] = [ms, why];
    };
    // Spraying: a blocked address, or a full budget whose pending attempts may start the block.
    refuse('ip', remaining(address.block, now));
    if (this.used(address, o.ipWindowMs, now) >= o.ipMaxFailures) refuse('ip', this.fullWait(address, o.ipWindowMs, o.ipBlockMs, now));
    // The pair lock; the account-wide lock only for addresses without a recent successful login.
    refuse('pair', remaining(pair.lock, now));
    const exempt = this.isKnown(account, ip, now);
    if (!exempt) refuse('email', remaining(account.lock, now));
    if (this.used(pair, o.pairWindowMs, now) >= o.pairMaxFailures) {
      refuse('pair', this.fullWait(pair, o.pairWindowMs, this.lockFor((live(pair.level, now)?.value ?? 0) + 1), now));
    }
    if (!exempt) {
      account.pending.prune(now - o.emailWindowMs, now);
      const streak = live(account.streak, now);
      if (streak && streak.value >= o.emailMaxFailures) refuse('email', streak.until - now);
      else if ((streak?.value ?? 0) + account.pending.live(now).size >= o.emailMaxFailures) refuse('email', o.emailLockMs + 1000);
    }
    if (waitMs > 0) return { allowed: false, waitMs: Math.ceil(waitMs), rule };

    const id = `m${this.nextId++}`;
    pair.pending.add(id, now, o.pairWindowMs);
    if (!exempt) account.pending.add(id, now, o.emailWindowMs);
    this.track(account, ip, now);
    address.pending.add(id, now, o.ipWindowMs);
    return { allowed: true, reservation: { id, email, ip, knownAddress: exempt } };
  }

  confirmFailure(r: ModelReservation, now: number): ModelFailure {
    const o = this.o;
    const out: ModelFailure = { pairLockMs: 0, backoffLevel: 0, emailLockMs: 0, ipBlockMs: 0 };
    const pair = this.pair(r.email, r.ip);
    const account = this.account(r.email);
    // A reservation counts only within its window (afterwards it has dropped out, as a crashed process's).
    pair.pending.prune(now - o.pairWindowMs, now);
    if (pair.pending.take(r.id, now)) {
      pair.failed.add(r.id, now, o.pairWindowMs);
      pair.failed.prune(now - o.pairWindowMs, now);
      this.track(account, r.ip, now);
      if (pair.failed.live(now).size >= o.pairMaxFailures && !live(pair.lock, now)) {
        const level = (live(pair.level, now)?.value ?? 0) + 1;
        const ms = this.lockFor(level);
        // Backoff decays backoffResetMs after the END of the lock; the window restarts after the lock.
        pair.level = { value: level, until: now + ms + o.backoffResetMs };
        pair.lock = { value: now + ms, until: now + ms };
        pair.pending.clear();
        pair.failed.clear();
        [out.pairLockMs, out.backoffLevel] = [ms, level];
      }
    }
    // Known addresses never reserved against the account: their failures are not in the streak.
    account.pending.prune(now - o.emailWindowMs, now);
    if (account.pending.take(r.id, now)) {
      const streak = (live(account.streak, now)?.value ?? 0) + 1;
      account.streak = { value: streak, until: now + o.emailLockMs };
      if (streak >= o.emailMaxFailures && !live(account.lock, now)) {
        account.lock = { value: now + o.emailLockMs, until: now + o.emailLockMs };
        out.emailLockMs = o.emailLockMs;
      }
    }
    const address = this.address(r.ip);
    address.pending.prune(now - o.ipWindowMs, now);
    if (address.pending.take(r.id, now)) {
      address.failed.add(r.id, now, o.ipWindowMs);
      address.failed.prune(now - o.ipWindowMs, now);
      if (address.failed.live(now).size >= o.ipMaxFailures && !live(address.block, now)) {
        address.block = { value: now + o.ipBlockMs, until: now + o.ipBlockMs };
        address.pending.clear();
        address.failed.clear();
        out.ipBlockMs = o.ipBlockMs;
      }
    }
    return out;
  }

  recordSuccess(r: ModelReservation, now: number): void {
    const pair = this.pair(r.email, r.ip);
    const account = this.account(r.email);
    // The pair's failures and the account's streak and ceiling lock end; backoff level and locks stay.
    pair.failed.clear();
    pair.pending.take(r.id, now);
    account.pending.take(r.id, now);
    account.streak = undefined;
    account.lock = undefined;
    const known = account.known;
    known.live(now).delete(r.ip);
    known.add(r.ip, now, this.o.knownAddressTtlMs);
    known.prune(now - this.o.knownAddressTtlMs, now);
    this.keepMostRecent(known, now);
    this.address(r.ip).pending.take(r.id, now);
  }

  release(r: ModelReservation, now: number): boolean {
    const removed = [
      this.pair(r.email, r.ip).pending.take(r.id, now),
      this.account(r.email).pending.take(r.id, now),
      this.address(r.ip).pending.take(r.id, now),
    ];
    return removed.includes(true);
  }

  state(email: string, now: number, ip?: string): ModelState {
    const o = this.o;
    const account = this.account(email);
    const known = account.known.live(now);
    const listed = [...account.seen.live(now).keys()].reverse();
    const state: ModelState = {
      emailLockedUntil: live(account.lock, now)?.value ?? 0,
      emailFailures: live(account.streak, now)?.value ?? 0,
      emailPending: account.pending.countAfter(now - o.emailWindowMs, now),
      addresses: listed.map((a) => {
        const pair = this.pair(email, a);
        return {
          ip: a,
          lockedUntil: live(pair.lock, now)?.value ?? 0,
          backoffLevel: live(pair.level, now)?.value ?? 0,
          failures: pair.failed.countAfter(now - o.pairWindowMs, now),
          pending: pair.pending.countAfter(now - o.pairWindowMs, now),
          lastSuccessAt: known.get(a) ?? 0,
        };
      }),
    };
    if (ip !== undefined) {
      const address = this.address(ip);
      state.ip = {
        blockedUntil: live(address.block, now)?.value ?? 0,
        failures: address.failed.countAfter(now - o.ipWindowMs, now),
        pending: address.pending.countAfter(now - o.ipWindowMs, now),
      };
    }
    return state;
  }

  /** Admin unlock and password-change reset: every pair of the account, listed or not, its streak and ceiling lock. */
  unlock(email: string, now: number): ModelState {
    const before = this.state(email, now);
    for (const key of [...this.pairs.keys()]) if (key.startsWith(`${email}\0`)) this.pairs.delete(key);
    const account = this.account(email);
    account.pending.clear();
    account.seen.clear();
    account.streak = undefined;
    account.lock = undefined;
    return before;
  }

  private lockFor(level: number): number {
    return Math.floor(Math.min(this.o.baseLockMs * 2 ** Math.min(level - 1, 40), this.o.maxLockMs));
  }

  private isKnown(account: Account, ip: string, now: number): boolean {
    const at = account.known.live(now).get(ip);
    return at !== undefined && at > now - this.o.knownAddressTtlMs;
  }

  private track(account: Account, ip: string, now: number): void {
    account.seen.live(now).delete(ip);
    account.seen.add(ip, now, this.listTtl);
    account.seen.prune(now - this.listTtl, now);
    this.keepMostRecent(account.seen, now);
  }

  private keepMostRecent(w: Window, now: number): void {
    const entries = w.live(now);
    for (const oldest of [...entries.keys()]) {
      if (entries.size <= this.o.addressCap) break;
      entries.delete(oldest);
    }
  }

  private used(w: { pending: Window; failed: Window }, window: number, now: number): number {
    w.pending.prune(now - window, now);
    w.failed.prune(now - window, now);
    return w.pending.live(now).size + w.failed.live(now).size;
  }

  private fullWait(w: { pending: Window; failed: Window }, window: number, lockMs: number, now: number): number {
    const oldest = Math.min(now, ...w.pending.live(now).values(), ...w.failed.live(now).values());
    return Math.max(oldest + window - now, lockMs) + 1000;
  }

  private pair(email: string, ip: string): Pair {
    const key = `${email}\0${ip}`;
    let pair = this.pairs.get(key);
    if (!pair) this.pairs.set(key, (pair = { pending: new Window(), failed: new Window() }));
    return pair;
  }

  private account(email: string): Account {
    let account = this.accounts.get(email);
    if (!account) this.accounts.set(email, (account = { pending: new Window(), known: new Window(), seen: new Window() }));
    return account;
  }

  private address(ip: string): Address {
    let address = this.addresses.get(ip);
    if (!address) this.addresses.set(ip, (address = { pending: new Window(), failed: new Window() }));
    return address;
  }
}
