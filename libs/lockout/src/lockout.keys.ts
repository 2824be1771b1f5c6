import { createHmac } from 'node:crypto';

/**
 * Redis key layout of the lockout library (keys are WITHOUT the global ioredis `keyPrefix`).
 *
 * `<eh>` = keyed hash of the normalised email, `<ah>` = keyed hash of the address's rate-limit
 * identity (IPv4 as is, IPv6 by /64). Raw emails and addresses never appear in keys.
 *
 * Per account, hash tag `{e:<eh>}` (one cluster slot per account):
 *   lockout:{e:<eh>}:pair:<ah>:pending  ZSET  reservation id -> reserved at (ms); attempts being verified
 *   lockout:{e:<eh>}:pair:<ah>:failed   ZSET  reservation id -> failed at (ms); confirmed failures in the window
 *   lockout:{e:<eh>}:pair:<ah>:lock     STRING locked-until (epoch ms), PX = lock duration
 *   lockout:{e:<eh>}:pair:<ah>:level    STRING backoff level, PX = lock duration + backoff reset
 *   lockout:{e:<eh>}:pair:<ah>:evicted  STRING the account's unlock generation when <ah> was evicted from
 *                                             `seen` while it still had pair state; PX = its longest pair key
 *   lockout:{e:<eh>}:pending            ZSET  account-wide pending attempts (not from known addresses)
 *   lockout:{e:<eh>}:streak             STRING consecutive confirmed failures since the last successful
 *                                             login (not from known addresses); PX = emailLockMs
 *   lockout:{e:<eh>}:lock               STRING locked-until (epoch ms) of the account-wide ceiling lock
 *   lockout:{e:<eh>}:seen               ZSET  <ah> -> last attempt (ms): the most recent addresses (at most
 *                                             `addressCap`), so unlock and getState find their pair keys
 *                                             from the email alone (no SCAN) in bounded time
 *   lockout:{e:<eh>}:addrs              SET   legacy (before `seen`): read and cleared, never written
 *   lockout:{e:<eh>}:unlocks            STRING unlock generation: pair state of an address that is in
 *                                             neither set nor stamped with it predates the last unlock
 *                                             and is void; a key-secret move merges nothing into these
 *                                             names if it changed since before the move's copy
 *   lockout:{e:<eh>}:streak:moving      HASH  {id, count}: a failure streak being moved to the names of a
 *                                             new key secret; lockout:{e:<eh>}:moved:<id> marks it applied
 *   lockout:{e:<eh>}:known              ZSET  <ah> -> last successful login (ms); exempt from the ceiling (the
 *                                             `addressCap` most recent)
 *   lockout:{e:<eh>}:notified           STRING SET NX PX: at most one lock email per interval (the
 *                                             account-wide lock's email sets it without NX)
 *
 * Per address, hash tag `{ip:<ah>}`:
 *   lockout:{ip:<ah>}:pending / :failed  ZSETs of the spraying budget across all emails
 *   lockout:{ip:<ah>}:block              STRING blocked-until (epoch ms)
 *
 * The unlock and state scripts are given the pair keys of every address they read (the caller
 * reads `seen` first), so a Redis Cluster moving the account's slot answers TRYAGAIN instead of
 * failing midway or reading the node the keys have not reached. The eviction from `seen` still
 * derives the evicted addresses' pair keys from the `seen` key (same hash tag, so the same slot):
 * during a move Redis runs a script only if every key it declares is on one node, and the scripts
 * that evict declare the attempt's own pair lock and evicted stamp, which do not exist when they
 * evict (a lock refuses the reservation and its start drops the pending attempt a confirmation
 * needs; the stamp is deleted when the address is recorded), so they are refused (TRYAGAIN, 503).
 *
 * Redis Cluster: every script touches the keys of one tag only, except the one-step reservation
 * used on a single Redis; on a Cluster {@link LockoutStore} reserves in two steps (address, then
 * account, refunding the address when the account refuses). A key-secret rotation moves state from
 * the old names to the new ones one slot at a time (see scripts/migrate.script.ts).
 */
export interface LockoutKeys {
  pairPending: string;
  pairFailed: string;
  pairLock: string;
  pairLevel: string;
  emailPending: string;
  emailStreak: string;
  emailLock: string;
  pairEvicted: string;
  seen: string;
  legacyAddresses: string;
  unlocks: string;
  streakParcel: string;
  known: string;
  notified: string;
  ipPending: string;
  ipFailed: string;
  ipBlock: string;
}

/** Keyed hashes that name an account and an address in keys. */
export interface LockoutSubject {
  emailHash: string;
  addressHash: string;
}

/** Builds the hashed names of an account (normalised email) and an address (rate-limit identity). */
export function lockoutSubject(secret: string, normalizedEmail: string, addressKey: string): LockoutSubject {
  return { emailHash: keyedHash(secret, 'email', normalizedEmail), addressHash: keyedHash(secret, 'addr', addressKey) };
}

/** The one function that names lockout keys. */
export function lockoutKeys({ emailHash, addressHash }: LockoutSubject): LockoutKeys {
  const account = `lockout:{e:${emailHash}}`;
  const pair = `${account}:pair:${addressHash}`;
  const address = `lockout:{ip:${addressHash}}`;
  return {
    pairPending: `${pair}:pending`,
    pairFailed: `${pair}:failed`,
    pairLock: `${pair}:lock`,
    pairLevel: `${pair}:level`,
    emailPending: `${account}:pending`,
    emailStreak: `${account}:streak`,
    emailLock: `${account}:lock`,
    pairEvicted: `${pair}:evicted`,
    seen: `${account}:seen`,
    legacyAddresses: `${account}:addrs`,
    unlocks: `${account}:unlocks`,
    streakParcel: `${account}:streak:moving`,
    known: `${account}:known`,
    notified: `${account}:notified`,
    ipPending: `${address}:pending`,
    ipFailed: `${address}:failed`,
    ipBlock: `${address}:block`,
  };
}

/** Marks, in the account's slot under the new names, that the moved streak `parcelId` was added. */
export function lockoutParcelMarkerKey(emailHash: string, parcelId: string): string {
  return `lockout:{e:${emailHash}}:moved:${parcelId}`;
}

// Domain-separated so an email and an address with the same text never share a hash.
function keyedHash(secret: string, domain: string, value: string): string {
  return createHmac('sha256', secret).update(`${domain}\0${value}`).digest('base64url').slice(0, 22);
}
