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
 *
 * Concurrency is not in the model: its operations are the atomic steps the stores promise (a
 * reservation in one step, or in the two steps of a Redis Cluster; the account's and the address's
 * parts of a settlement), and a checker follows every order of the steps of logins in flight
 * ({@link LockoutModel.fork}, {@link explore}). A key-secret rotation changes nothing but the cap of
 * known addresses ({@link LockoutModel.rotate}).
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

  copy(): Window {
    const w = new Window();
    for (const [id, t] of this.at) w.at.set(id, t);
    w.until = this.until;
    return w;
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
  /** During a key-secret rotation: known addresses still under the previous secret's names (see {@link LockoutModel.rotate}). */
  knownBefore?: Window;
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
  /** When it was last recorded (addresses recorded at the same time may be listed in either order). */
  lastAttemptAt: number;
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

/** The refusal of the address's and the account's checks: the rule with the later end (the address's on a tie). */
function combine(address: { waitMs: number }, account: { waitMs: number; rule: LockoutRule }): ModelReserve | undefined {
  const [waitMs, rule] = account.waitMs > address.waitMs ? [account.waitMs, account.rule] : [address.waitMs, 'ip' as const];
  return waitMs > 0 ? { allowed: false, waitMs: Math.ceil(waitMs), rule } : undefined;
}

export class LockoutModel {
  private readonly pairs = new Map<string, Pair>();
  private readonly accounts = new Map<string, Account>();
  private readonly addresses = new Map<string, Address>();
  private nextId = 0;
  /**
   * Picks one of `n` outcomes where the rules leave the choice open (which of addresses recorded at
   * the same moment leaves a full list); see {@link explore} for following every one.
   */
  choose: (n: number) => number = () => 0;

  constructor(private readonly o: ResolvedLockoutOptions) {}

  /** How long an address stays listed after its last attempt (docs: 49 h by default). */
  private get listTtl(): number {
    return Math.max(this.o.pairWindowMs, this.o.emailWindowMs) + this.o.maxLockMs + this.o.backoffResetMs;
  }

  /**
   * One attempt checked against every rule and reserved in every window at once (a single Redis, the
   * memory store): exactly {@link reserveAddress} then {@link reserveAccount}, with the address step
   * undone when the account step refuses, and nothing else in between.
   */
  reserve(email: string, ip: string, now: number, id = `m${this.nextId++}`): ModelReserve {
    const address = this.checkAddress(ip, now);
    const account = this.checkAccount(email, ip, now);
    const refused = combine(address, account);
    if (refused) return refused;
    this.reserveInAddress(ip, id, now);
    this.reserveInAccount(email, ip, id, account.exempt, now);
    return { allowed: true, reservation: { id, email, ip, knownAddress: account.exempt } };
  }

  /** Step 1 on a Redis Cluster (docs/decisions/003): the spraying block and budget; reserves in the address window. */
  reserveAddress(ip: string, now: number, id: string): { waitMs: number } {
    const { waitMs } = this.checkAddress(ip, now);
    if (waitMs === 0) this.reserveInAddress(ip, id, now);
    return { waitMs };
  }

  /**
   * Step 2 on a Redis Cluster: the pair and account rules; reserves in the pair and account windows
   * unless it refuses or only `peek`s (after a refused step 1, whose wait it is combined with).
   */
  reserveAccount(email: string, ip: string, now: number, id: string, mode: 'reserve' | 'peek', addressWaitMs = 0): ModelReserve {
    const account = this.checkAccount(email, ip, now);
    const refused = combine({ waitMs: addressWaitMs }, account);
    if (refused) return refused;
    if (mode === 'reserve') this.reserveInAccount(email, ip, id, account.exempt, now);
    return { allowed: true, reservation: { id, email, ip, knownAddress: account.exempt } };
  }

  /** Confirms a failure in the pair, the account and the address (two independent parts, see below). */
  confirmFailure(r: ModelReservation, now: number): ModelFailure {
    return { ...this.confirmAccountFailure(r, now), ipBlockMs: this.confirmAddressFailure(r, now) };
  }

  /** The account's part of a confirmed failure: the pair window and lock, the streak and the ceiling lock. */
  confirmAccountFailure(r: ModelReservation, now: number): Omit<ModelFailure, 'ipBlockMs'> {
    const o = this.o;
    const out = { pairLockMs: 0, backoffLevel: 0, emailLockMs: 0 };
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
    return out;
  }

  /** The address's part of a confirmed failure: its window and spraying block (ms started, else 0). */
  confirmAddressFailure(r: ModelReservation, now: number): number {
    const o = this.o;
    const address = this.address(r.ip);
    address.pending.prune(now - o.ipWindowMs, now);
    if (address.pending.take(r.id, now)) {
      address.failed.add(r.id, now, o.ipWindowMs);
      address.failed.prune(now - o.ipWindowMs, now);
      if (address.failed.live(now).size >= o.ipMaxFailures && !live(address.block, now)) {
        address.block = { value: now + o.ipBlockMs, until: now + o.ipBlockMs };
        address.pending.clear();
        address.failed.clear();
        return o.ipBlockMs;
      }
    }
    return 0;
  }

  /** Returns whether it ended the account-wide lock. */
  recordSuccess(r: ModelReservation, now: number): boolean {
    const ended = this.recordAccountSuccess(r, now);
    this.releaseAddress(r, now);
    return ended;
  }

  /** The account's part of a success (the address's part is {@link releaseAddress}); whether it ended the account-wide lock. */
  recordAccountSuccess(r: ModelReservation, now: number): boolean {
    const pair = this.pair(r.email, r.ip);
    const account = this.account(r.email);
    const ended = live(account.lock, now) !== undefined;
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
    return ended;
  }

  release(r: ModelReservation, now: number): boolean {
    const removed = [this.releaseAccount(r, now), this.releaseAddress(r, now)];
    return removed.includes(true);
  }

  /** Gives a pending attempt back to the pair and account windows; true if it was still pending in one. */
  releaseAccount(r: ModelReservation, now: number): boolean {
    const removed = [this.pair(r.email, r.ip).pending.take(r.id, now), this.account(r.email).pending.take(r.id, now)];
    return removed.includes(true);
  }

  /** Gives a pending attempt back to the address window (also the refund of a refused cluster step 2). */
  releaseAddress(r: Pick<ModelReservation, 'id' | 'ip'>, now: number): boolean {
    return this.address(r.ip).pending.take(r.id, now);
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
          lastSuccessAt: known.get(a) ?? account.knownBefore?.live(now).get(a) ?? 0,
          lastAttemptAt: account.seen.at.get(a)!,
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

  /**
   * Admin unlock and password-change reset: every pair of the account, listed or not, its streak and
   * ceiling lock; the reset also forgets its known addresses, under both secrets' names.
   */
  unlock(email: string, now: number, forgetKnown = false): ModelState {
    const before = this.state(email, now);
    for (const key of [...this.pairs.keys()]) if (key.startsWith(`${email}\0`)) this.pairs.delete(key);
    const account = this.account(email);
    account.pending.clear();
    account.seen.clear();
    account.streak = undefined;
    account.lock = undefined;
    if (forgetKnown) {
      account.known.clear();
      account.knownBefore?.clear();
    }
    return before;
  }

  /**
   * `LOCKOUT_SECRET` changes, the old value kept as previous (docs/key-rotation.md). Nothing is lost
   * or counted twice, so the model changes nothing, except the one thing docs/key-rotation.md leaves
   * to each secret's names until an address moves (its next attempt, {@link moveKnown}): the cap of
   * known addresses. Known addresses under the old names neither count against the cap of those
   * added since nor leave for them.
   */
  rotate(now: number): void {
    for (const account of this.accounts.values()) {
      account.knownBefore = account.known.copy();
      account.known.live(now).clear();
    }
  }

  /**
   * Before an attempt during a rotation: the address's known entry under the old names moves to the
   * new ones, and stays known only if it is among the `addressCap` most recent of both.
   */
  moveKnown(email: string, ip: string, now: number): void {
    const account = this.account(email);
    const before = account.knownBefore?.live(now);
    const at = before?.get(ip);
    if (at === undefined) return;
    before!.delete(ip);
    const known = account.known.live(now);
    const above = [...known.values(), ...before!.values()].filter((t) => t > at).length;
    if (!known.has(ip) && above >= this.o.addressCap) return;
    known.set(ip, Math.max(at, known.get(ip) ?? 0));
    account.known.until = Math.max(account.known.until, account.knownBefore!.until);
    this.keepMostRecent(account.known, now);
  }

  /** An independent copy, to follow several orders of concurrent operations from one state. */
  fork(): LockoutModel {
    const copy = new LockoutModel(this.o);
    copy.nextId = this.nextId;
    const windows = (from: object) =>
      Object.fromEntries(Object.entries(from).map(([k, v]) => [k, v instanceof Window ? v.copy() : v && { ...(v as Lapsing) }]));
    for (const [key, pair] of this.pairs) copy.pairs.set(key, windows(pair) as unknown as Pair);
    for (const [key, account] of this.accounts) copy.accounts.set(key, windows(account) as unknown as Account);
    for (const [key, address] of this.addresses) copy.addresses.set(key, windows(address) as unknown as Address);
    return copy;
  }

  /** Equal for two models that answer every operation alike from `now` on. */
  fingerprint(now: number): string {
    // Entries are ordered by time alone: which of equally recent addresses leaves a full list is a choice.
    const shown = (v: unknown) => {
      if (!(v instanceof Window)) return live(v as Lapsing | undefined, now) ?? null;
      const entries = [...v.live(now)];
      return entries.length === 0 ? null : [v.until, entries.sort()];
    };
    const all = (m: Map<string, object>) =>
      [...m]
        .map(([key, v]) => [key, Object.entries(v).map(([name, w]) => [name, shown(w)])] as const)
        .filter(([, parts]) => parts.some(([, x]) => x !== null))
        .sort(([a], [b]) => (a < b ? -1 : 1));
    return JSON.stringify([all(this.pairs), all(this.accounts), all(this.addresses)]);
  }

  private checkAddress(ip: string, now: number): { waitMs: number } {
    const o = this.o;
    const address = this.address(ip);
    // Spraying: a blocked address, or a full budget whose pending attempts may start the block.
    let waitMs = remaining(address.block, now);
    if (this.used(address, o.ipWindowMs, now) >= o.ipMaxFailures) {
      waitMs = Math.max(waitMs, this.fullWait(address, o.ipWindowMs, o.ipBlockMs, now));
    }
    return { waitMs };
  }

  private checkAccount(email: string, ip: string, now: number): { waitMs: number; rule: LockoutRule; exempt: boolean } {
    const o = this.o;
    const pair = this.pair(email, ip);
    const account = this.account(email);
    let waitMs = 0;
    let rule: LockoutRule = 'pair';
    const refuse = (why: LockoutRule, ms: number) => {
      if (ms > waitMs) [waitMs, rule] = [ms, why];
    };
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
    return { waitMs, rule, exempt };
  }

  private reserveInAddress(ip: string, id: string, now: number): void {
    this.address(ip).pending.add(id, now, this.o.ipWindowMs);
  }

  private reserveInAccount(email: string, ip: string, id: string, exempt: boolean, now: number): void {
    const account = this.account(email);
    this.pair(email, ip).pending.add(id, now, this.o.pairWindowMs);
    if (!exempt) account.pending.add(id, now, this.o.emailWindowMs);
    this.track(account, ip, now);
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
    while (entries.size > this.o.addressCap) {
      // Addresses recorded at the same moment are equally recent: the docs do not say which goes first.
      const oldestAt = Math.min(...entries.values());
      const tied = [...entries].filter(([, t]) => t === oldestAt).map(([a]) => a);
      entries.delete(tied.length > 1 ? tied[this.choose(tied.length)] : tied[0]);
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

/**
 * Every outcome of `op` on a copy of `model`, one per sequence of choices the rules leave open
 * ({@link LockoutModel.choose}); usually exactly one.
 */
export function explore<T>(model: LockoutModel, op: (m: LockoutModel) => T): [LockoutModel, T][] {
  const outcomes: [LockoutModel, T][] = [];
  const pending: number[][] = [[]];
  while (pending.length > 0) {
    const forced = pending.pop()!;
    const m = model.fork();
    let made = 0;
    m.choose = (n) => {
      if (made < forced.length) return forced[made++];
      for (let c = 1; c < n; c++) pending.push([...forced, c]);
      forced.push(0);
      made++;
      return 0;
    };
    outcomes.push([m, op(m)]);
    m.choose = () => 0;
  }
  return outcomes;
}
