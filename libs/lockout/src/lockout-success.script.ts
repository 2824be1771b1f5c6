import { RedisScript } from '@lib/redis';
import { LOCKOUT_LUA_PRELUDE } from './lockout-prelude.script';

/**
 * Settles a reserved attempt whose password was right: resets the pair's failure window (the
 * backoff level stays and decays on its own), gives the attempt back to the account and address
 * budgets, ends the account's failure streak and its ceiling lock (the lock refuses only unknown
 * addresses, so a success while it holds came from a known one), and records the address as known.
 *
 * KEYS: 1 pair pending, 2 pair failed, 3 email pending, 4 ip pending, 5 known addresses,
 *       6 email streak, 7 email lock
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}.
 * Returns: 1.
 * Invariant: only this reservation is given back (pending attempts of others stay counted); the pair's
 *            confirmed failures and the account's streak are reset; no pair or address lock is touched.
 */
export const RECORD_SUCCESS_SCRIPT = new RedisScript(
  'lockout-success',
  `${LOCKOUT_LUA_PRELUDE}
-- Only this attempt is given back: other attempts of the pair still being verified (concurrent
-- guesses) stay counted, so a correct login cannot make in-flight wrong guesses disappear.
redis.call('DEL', KEYS[2], KEYS[6], KEYS[7])
redis.call('ZREM', KEYS[1], rid)
redis.call('ZREM', KEYS[3], rid)
redis.call('ZREM', KEYS[4], rid)
redis.call('ZADD', KEYS[5], now, addr)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - knownTtl)
redis.call('PEXPIRE', KEYS[5], knownTtl)
return 1
`,
);
