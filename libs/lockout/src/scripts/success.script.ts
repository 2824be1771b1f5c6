import { RedisScript } from '@nest-hardening/redis';

import { LOCKOUT_LUA_PRELUDE } from './prelude.script';

/**
 * Settles a reserved attempt whose password was right: resets the pair's failure window (the
 * backoff level stays and decays on its own), gives the attempt back to the account budget, ends
 * the account's failure streak and its ceiling lock (the lock refuses only unknown addresses, so a
 * success while it holds came from a known one), and records the address as known (the account
 * keeps its `addressCap` most recent known addresses).
 * Runs in the account's slot; the address budget gets the attempt back through
 * {@link RELEASE_RESERVATION_SCRIPT} (a release and a success are the same there).
 *
 * KEYS: 1 pair pending, 2 pair failed, 3 email pending, 4 known addresses, 5 email streak,
 *       6 email lock (all `{e:<eh>}`)
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}.
 * Returns: {ended, now}: ended 1 if it ended the account-wide lock (to be reported as lifted), else 0;
 *          now the time the address was recorded as known at (see {@link FORGET_KNOWN_ADDRESS_SCRIPT}).
 * Invariant: only this reservation is given back (pending attempts of others stay counted); the pair's
 *            confirmed failures and the account's streak are reset; no pair or address lock is touched.
 */
export const RECORD_SUCCESS_SCRIPT = new RedisScript(
  'lockout-success',
  `${LOCKOUT_LUA_PRELUDE}
-- Only this attempt is given back: other attempts of the pair still being verified (concurrent
-- guesses) stay counted, so a correct login cannot make in-flight wrong guesses disappear.
local ended = redis.call('EXISTS', KEYS[6])
redis.call('DEL', KEYS[2], KEYS[5], KEYS[6])
redis.call('ZREM', KEYS[1], rid)
redis.call('ZREM', KEYS[3], rid)
redis.call('ZADD', KEYS[4], now, addr)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - knownTtl)
-- At most addrCap known addresses, the most recent: logins from ever new addresses (an owner
-- rotating IPv6 networks) must not grow one key for the whole known-address lifetime.
redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -addrCap - 1)
redis.call('PEXPIRE', KEYS[4], knownTtl)
return {ended, now}
`,
);

/**
 * Undoes the known-address record of a success whose password was replaced before its login
 * completed (a password change forgets every known address; a login that was verifying the old
 * password meanwhile records its address after that). A later success of the address, recorded at
 * another time, is kept.
 *
 * KEYS: 1 known addresses (`{e:<eh>}`)
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}, then 17 the time the success recorded
 *       (the `now` {@link RECORD_SUCCESS_SCRIPT} returned).
 * Returns: 1 if the address was forgotten, else 0.
 * Invariant: removes at most this address, and only the record that success made.
 */
export const FORGET_KNOWN_ADDRESS_SCRIPT = new RedisScript(
  'lockout-forget-known',
  `${LOCKOUT_LUA_PRELUDE}
if tonumber(redis.call('ZSCORE', KEYS[1], addr) or '-1') ~= tonumber(ARGV[17]) then return 0 end
return redis.call('ZREM', KEYS[1], addr)
`,
);
