import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import { Cluster } from 'ioredis';

import { rateLimitIpKey } from '@nest-hardening/client-ip';
import { InjectRedis, redisCall, ScriptDeadlines, type RedisClient } from '@nest-hardening/redis';

import type { ResolvedLockoutOptions } from './lockout-options.interface';
import type { LockoutReservation } from './lockout-reservation.interface';
import { accountState, addressState, ipState } from './lockout-state.assemble';
import type { LockoutAddressState, LockoutState } from './lockout-state.interface';
import { lockoutKeys, lockoutParcelMarkerKey, lockoutSubject, type LockoutKeys, type LockoutSubject } from './lockout.keys';
import { RESOLVED_LOCKOUT_OPTIONS } from './lockout.module-definition';
import {
  LockoutStore,
  type FailureOutcome,
  type LockoutRule,
  type ReserveOutcome,
  type SuccessOutcome,
  type UnlockOptions,
} from './lockout.store';
import { CONFIRM_ACCOUNT_FAILURE_SCRIPT, CONFIRM_ADDRESS_FAILURE_SCRIPT } from './scripts/failure.script';
import {
  DROP_ACCOUNT_STATE_SCRIPT,
  DROP_ADDRESS_STATE_SCRIPT,
  PUT_ACCOUNT_STATE_SCRIPT,
  PUT_ADDRESS_STATE_SCRIPT,
  TAKE_ACCOUNT_STATE_SCRIPT,
  TAKE_ADDRESS_STATE_SCRIPT,
} from './scripts/migrate.script';
import { lockoutScriptArgs } from './scripts/prelude.script';
import { RELEASE_RESERVATION_SCRIPT } from './scripts/release.script';
import { RESERVE_ACCOUNT_SCRIPT } from './scripts/reserve-account.script';
import { RESERVE_ADDRESS_SCRIPT } from './scripts/reserve-address.script';
import { RESERVE_LOGIN_SCRIPT } from './scripts/reserve.script';
import { READ_ADDRESS_STATE_SCRIPT, READ_STATE_SCRIPT, UNLOCK_ACCOUNT_SCRIPT } from './scripts/state.script';
import { FORGET_KNOWN_ADDRESS_SCRIPT, RECORD_SUCCESS_SCRIPT } from './scripts/success.script';

/** `[1, exempt, now]` reserved, `[0, waitMs, rule, now]` refused (the scripts' doc comments). */
type ReserveReply = [number, number, string | number, number?];

/**
 * The Redis {@link LockoutStore} (the default), all Redis access of the lockout library: runs the
 * atomic scripts and maps their replies.
 *
 * Every script touches one hash slot, except the one-step reservation: on a single Redis a login is
 * checked and reserved in all windows at once; on a Cluster it is reserved in two steps, the
 * address slot and then the account slot, and the address step is refunded when the account step
 * refuses (each step keeps its own windows' invariant; see docs/decisions/). During a key-secret
 * rotation, state under the previous names moves slot by slot before the reservation.
 */
@Injectable()
export class RedisLockoutStore extends LockoutStore {
  private readonly cluster: boolean;
  /** Reservations carry a deadline: one Redis runs after its caller gave up (503) changes nothing. */
  private readonly deadlines: ScriptDeadlines;

  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    @Inject(RESOLVED_LOCKOUT_OPTIONS) private readonly options: ResolvedLockoutOptions,
  ) {
    super();
    this.cluster = redis instanceof Cluster;
    this.deadlines = ScriptDeadlines.of(redis);
  }

  subject(normalizedEmail: string, ip: string): LockoutSubject {
    return lockoutSubject(this.options.keySecret, normalizedEmail, rateLimitIpKey(ip));
  }

  async reserve(email: string, ip: string, userAgent?: string): Promise<ReserveOutcome> {
    const subject = this.subject(email, ip);
    const k = lockoutKeys(subject);
    const previous = this.previousSubject(email, ip);
    if (previous) await this.moveToCurrentNames(previous, subject);
    const id = randomUUID();
    const reply = this.cluster
      ? await this.reserveInTwoSteps(k, id, subject.addressHash)
      : await this.reserveInOneStep(k, id, subject.addressHash);
    if (reply[0] !== 1) return { allowed: false, waitMs: Number(reply[1]), rule: reply[2] as LockoutRule };
    return {
      allowed: true,
      reservation: { id, email, ip, userAgent, ...subject, knownAddress: reply[1] === 1 },
    };
  }

  // The account and the address parts of a settlement are independent, so each runs in its own slot.
  async confirmFailure(r: LockoutReservation): Promise<FailureOutcome> {
    const k = lockoutKeys(r);
    const args = this.args(r.id, r.addressHash);
    const [[pairLockMs, backoffLevel, emailLockMs], ipBlockMs] = await Promise.all([
      CONFIRM_ACCOUNT_FAILURE_SCRIPT.run<number[]>(this.redis, this.accountKeys(k), args),
      CONFIRM_ADDRESS_FAILURE_SCRIPT.run<number>(this.redis, [k.ipPending, k.ipFailed, k.ipBlock], args),
    ]);
    return { pairLockMs, backoffLevel, emailLockMs, ipBlockMs };
  }

  async recordSuccess(r: LockoutReservation): Promise<SuccessOutcome> {
    const k = lockoutKeys(r);
    const args = this.args(r.id, r.addressHash);
    const [[ended, now]] = await Promise.all([
      RECORD_SUCCESS_SCRIPT.run<[number, number]>(
        this.redis,
        [k.pairPending, k.pairFailed, k.emailPending, k.known, k.emailStreak, k.emailLock],
        args,
      ),
      RELEASE_RESERVATION_SCRIPT.run(this.redis, [k.ipPending], args),
    ]);
    return { emailLockEnded: Number(ended) === 1, knownSince: Number(now) };
  }

  async forgetKnownAddress(r: LockoutReservation, knownSince: number): Promise<void> {
    const k = lockoutKeys(r);
    await FORGET_KNOWN_ADDRESS_SCRIPT.run(this.redis, [k.known], [...this.args(r.id, r.addressHash), String(knownSince)]);
  }

  /** Removes a still-pending reservation from every window; returns false if it was already settled. */
  async release(r: LockoutReservation): Promise<boolean> {
    const k = lockoutKeys(r);
    const args = this.args(r.id, r.addressHash);
    const removed = await Promise.all([
      RELEASE_RESERVATION_SCRIPT.run<number>(this.redis, [k.pairPending, k.emailPending], args),
      RELEASE_RESERVATION_SCRIPT.run<number>(this.redis, [k.ipPending], args),
    ]);
    return removed[0] + removed[1] > 0;
  }

  /** The account's state; during a key-secret rotation, what is still under the previous names counts too. */
  async readState(email: string, ip?: string): Promise<LockoutState> {
    const subjects = this.subjects(email, ip ?? '0.0.0.0');
    const flats = await Promise.all(
      subjects.map(async (s) => {
        const [keys, addresses] = await this.stateKeys(s);
        return READ_STATE_SCRIPT.run<(string | number)[]>(this.redis, keys, [...this.args('', ''), ...addresses]);
      }),
    );
    const state = parseState(mergeStateArrays(flats, this.options.addressCap));
    if (ip !== undefined) {
      const replies = await Promise.all(
        subjects.map((s) => {
          const k = lockoutKeys(s);
          return READ_ADDRESS_STATE_SCRIPT.run<number[]>(this.redis, [k.ipPending, k.ipFailed, k.ipBlock], this.args('', s.addressHash));
        }),
      );
      const blockedUntil = Math.max(...replies.map((r) => Number(r[0])));
      const failures = replies.reduce((sum, r) => sum + Number(r[1]), 0);
      const pending = replies.reduce((sum, r) => sum + Number(r[2]), 0);
      state.ip = ipState(subjects[0].addressHash, blockedUntil, failures, pending);
    }
    return state;
  }

  /**
   * Clears the account's locks and counts (and, if asked, its known addresses) atomically (during a
   * key-secret rotation under the previous names, then under the current ones); returns the state before.
   */
  async unlock(email: string, options: UnlockOptions = {}): Promise<LockoutState> {
    const mode = options.forgetKnownAddresses ? 'forget-known' : 'keep-known';
    const flats: (string | number)[][] = [];
    // Previous names first: a move copies from them and merges into the current names, so a copy
    // taken before this clears them is either merged before the current names are cleared or sees
    // their unlock generation raised and is not merged (see moveAccount).
    for (const subject of this.subjects(email, '0.0.0.0').reverse()) {
      const [keys, addresses] = await this.stateKeys(subject);
      flats.unshift(await UNLOCK_ACCOUNT_SCRIPT.run<(string | number)[]>(this.redis, keys, [...this.args('', ''), mode, ...addresses]));
    }
    return parseState(mergeStateArrays(flats, this.options.addressCap));
  }

  /** True for the first caller per account per notification interval (one atomic SET PX, NX unless `always`). */
  async claimNotification(emailHash: string, always = false): Promise<boolean> {
    const { notified } = lockoutKeys({ emailHash, addressHash: '' });
    const interval = this.options.notificationIntervalMs;
    if (always) return (await redisCall(this.redis.set(notified, '1', 'PX', interval))) === 'OK';
    return (await redisCall(this.redis.set(notified, '1', 'PX', interval, 'NX'))) === 'OK';
  }

  /** The names under the previous key secret, while a rotation is under way. */
  private previousSubject(normalizedEmail: string, ip: string): LockoutSubject | undefined {
    const previous = this.options.previousKeySecret;
    return previous ? lockoutSubject(previous, normalizedEmail, rateLimitIpKey(ip)) : undefined;
  }

  private subjects(normalizedEmail: string, ip: string): LockoutSubject[] {
    const previous = this.previousSubject(normalizedEmail, ip);
    return previous ? [this.subject(normalizedEmail, ip), previous] : [this.subject(normalizedEmail, ip)];
  }

  /**
   * The keys of the state and unlock scripts and the addresses whose pair keys they declare: the
   * account's listed addresses (at most the cap, most recent first) and a sample of a legacy SET,
   * read just before (one more round trip). A Redis Cluster requires every key a script touches to
   * be declared: while the account's slot is being moved, it answers TRYAGAIN (503) instead of
   * failing midway or reading pair keys on the node they have not reached yet.
   */
  private async stateKeys(subject: LockoutSubject): Promise<[string[], string[]]> {
    const k = lockoutKeys(subject);
    const cap = this.options.addressCap;
    const [listed, legacy] = await Promise.all([
      redisCall(this.redis.zrevrange(k.seen, 0, cap - 1)),
      redisCall(this.redis.srandmember(k.legacyAddresses, cap)),
    ]);
    const addresses = [...new Set([...listed, ...legacy])];
    const pairs = addresses.flatMap((addressHash) => {
      const p = lockoutKeys({ emailHash: subject.emailHash, addressHash });
      return [p.pairPending, p.pairFailed, p.pairLock, p.pairLevel, p.pairEvicted];
    });
    return [
      [k.seen, k.emailPending, k.emailStreak, k.emailLock, k.known, k.legacyAddresses, k.unlocks, k.streakParcel, ...pairs],
      addresses,
    ];
  }

  /**
   * Moves a subject's state from its names under the previous key secret to the current ones, one
   * slot at a time (copy from the old slot, merge into the new, remove the copy from the old; see
   * scripts/migrate.script.ts), the account's and the address's moves side by side. When nothing
   * is left under the old names this costs one round trip (the copies, and the account's unlock
   * generation read beside them).
   */
  private async moveToCurrentNames(previous: LockoutSubject, current: LockoutSubject): Promise<void> {
    await Promise.all([this.moveAccount(previous, current), this.moveAddress(lockoutKeys(previous), lockoutKeys(current))]);
  }

  /**
   * An unlock that ran between the copy and the merge has cleared both name sets, so merging the
   * copy would bring back state from before it. PUT therefore merges nothing when the account's
   * unlock generation under the current names (same slot as PUT) changed since before the copy:
   * the unlock clears the previous names before the current ones, so an unlock that missed the
   * copy raises it after the read, or clears the merged state itself. A skipped copy is not
   * dropped: what the unlock cleared is gone already, and what it did not (written after it, or
   * kept by it) waits for the next move.
   */
  private async moveAccount(previous: LockoutSubject, current: LockoutSubject): Promise<void> {
    const [from, to] = [lockoutKeys(previous), lockoutKeys(current)];
    const oldKeys = [...this.accountKeys(from), from.notified, from.streakParcel];
    // A fresh parcel id per copy: an id whose parcel was already applied is marked and never added again.
    const take = () => TAKE_ACCOUNT_STATE_SCRIPT.run<string>(this.redis, oldKeys, [...this.args('', previous.addressHash), randomUUID()]);
    // The generation is read beside a first copy that only tells whether anything is left (the
    // common case costs one round trip); when something is, the copy to merge is taken again, after
    // the read completed, since on a Cluster the two calls in parallel may run in either order.
    const [generation, left] = await Promise.all([redisCall(this.redis.get(to.unlocks)), take()]);
    if (!left) return;
    const copy = await take();
    if (!copy) return;
    const parcel = (JSON.parse(copy) as { parcel: { id: string } | false }).parcel;
    const marker = lockoutParcelMarkerKey(current.emailHash, parcel ? parcel.id : 'none');
    const merged = await PUT_ACCOUNT_STATE_SCRIPT.run<number>(
      this.redis,
      [...this.accountKeys(to), to.notified, marker],
      [...this.args('', current.addressHash), copy, generation ?? '0'],
    );
    if (merged === 1) await DROP_ACCOUNT_STATE_SCRIPT.run(this.redis, oldKeys, [...this.args('', previous.addressHash), copy]);
  }

  private async moveAddress(from: LockoutKeys, to: LockoutKeys): Promise<void> {
    const oldKeys = [from.ipPending, from.ipFailed, from.ipBlock];
    const copy = await TAKE_ADDRESS_STATE_SCRIPT.run<string>(this.redis, oldKeys, []);
    if (!copy) return;
    await PUT_ADDRESS_STATE_SCRIPT.run(this.redis, [to.ipPending, to.ipFailed, to.ipBlock], [copy]);
    await DROP_ADDRESS_STATE_SCRIPT.run(this.redis, oldKeys, [copy]);
  }

  private reserveInOneStep(k: LockoutKeys, id: string, addressHash: string): Promise<ReserveReply> {
    return this.deadlines.run<ReserveReply>(
      RESERVE_LOGIN_SCRIPT,
      '',
      [...this.accountKeys(k), k.ipPending, k.ipFailed, k.ipBlock],
      this.args(id, addressHash),
    );
  }

  /**
   * Address step, then account step. A refused account step gives the address reservation back; a
   * refused address step still asks the account step for its wait (without reserving), so the
   * Retry-After is never earlier than the end of any lock that applies, as in the one-step path.
   */
  private async reserveInTwoSteps(k: LockoutKeys, id: string, addressHash: string): Promise<ReserveReply> {
    const args = this.args(id, addressHash);
    const addressNode = this.deadlines.nodeOfKey(k.ipPending);
    const accountNode = this.deadlines.nodeOfKey(k.pairPending);
    const address = await this.deadlines.run<ReserveReply>(RESERVE_ADDRESS_SCRIPT, addressNode, [k.ipPending, k.ipFailed, k.ipBlock], args);
    if (address[0] !== 1) {
      const account = await this.deadlines.run<ReserveReply>(RESERVE_ACCOUNT_SCRIPT, accountNode, this.accountKeys(k), [...args, 'peek']);
      return account[0] !== 1 && Number(account[1]) > Number(address[1]) ? account : address;
    }
    let account: ReserveReply;
    try {
      account = await this.deadlines.run<ReserveReply>(RESERVE_ACCOUNT_SCRIPT, accountNode, this.accountKeys(k), [...args, 'reserve']);
    } catch (error) {
      await this.refundAddress(k, args);
      throw error;
    }
    if (account[0] !== 1) await this.refundAddress(k, args);
    return account;
  }

  // Best effort: if the refund fails, the attempt stays counted against the address until its
  // window ends, which errs on the side of refusing.
  private async refundAddress(k: LockoutKeys, args: string[]): Promise<void> {
    await RELEASE_RESERVATION_SCRIPT.run(this.redis, [k.ipPending], args).catch(() => undefined);
  }

  /** The account keys every account-slot script binds, in the order of BIND_ACCOUNT_KEYS_LUA. */
  private accountKeys(k: LockoutKeys): string[] {
    return [
      k.pairPending,
      k.pairFailed,
      k.pairLock,
      k.pairLevel,
      k.emailPending,
      k.emailStreak,
      k.emailLock,
      k.known,
      k.seen,
      k.legacyAddresses,
      k.pairEvicted,
      k.unlocks,
    ];
  }

  private args(reservationId: string, addressHash: string): string[] {
    return lockoutScriptArgs(this.options, reservationId, addressHash);
  }
}

/** Width of one address in the state scripts' flat layout (see COLLECT_STATE_LUA). */
const ADDRESS_FIELDS = 7;

/**
 * Combines state arrays of one account read under several names (a key-secret rotation): later lock
 * end, summed counts, and the `addressCap` most recently attempted addresses of both lists.
 */
function mergeStateArrays(flats: (string | number)[][], addressCap: number): (string | number)[] {
  if (flats.length === 1) return flats[0];
  const head = [Math.max(...flats.map((f) => Number(f[0]))), 0, 0, 0];
  for (const f of flats) for (const i of [1, 2, 3]) head[i] += Number(f[i]);
  const addresses = flats
    .flatMap((f) => Array.from({ length: Number(f[3]) }, (_, i) => f.slice(4 + i * ADDRESS_FIELDS, 4 + (i + 1) * ADDRESS_FIELDS)))
    .sort((a, b) => Number(b[ADDRESS_FIELDS - 1]) - Number(a[ADDRESS_FIELDS - 1]))
    .slice(0, addressCap);
  head[3] = addresses.length;
  return [...head, ...addresses.flat()];
}

function parseState(flat: (string | number)[]): LockoutState {
  const [emailLockedUntil, emailFailures, emailPending, count] = flat.slice(0, 4).map(Number);
  const addresses: LockoutAddressState[] = [];
  for (let i = 0; i < count; i++) {
    const [address, lockedUntil, backoffLevel, failures, pending, lastSuccessAt] = flat.slice(
      4 + i * ADDRESS_FIELDS,
      4 + (i + 1) * ADDRESS_FIELDS,
    );
    addresses.push(
      addressState(String(address), Number(lockedUntil), Number(backoffLevel), Number(failures), Number(pending), Number(lastSuccessAt)),
    );
  }
  return accountState(emailLockedUntil, emailFailures, emailPending, addresses);
}
