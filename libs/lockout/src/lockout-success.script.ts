import { RedisScript } from '@lib/redis';
import { LOCKOUT_LUA_PRELUDE } from './lockout-prelude.script';

/**
 * Settles a reserved attempt whose password was right: resets the pair's failure window (the
 * backoff level stays and decays on its own), gives the attempt back to the account and address
 * budgets, and records the address as known for the account.
 *
 * KEYS: 1 pair pending, 2 pair failed, 3 email pending, 4 ip pending, 5 known addresses
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}.
 * Returns: 1.
 * Invariant: only this reservation is given back (pending attempts of others stay counted); the pair's
 *            confirmed failures are reset; no lock is touched.
 */
export const RECORD_SUCCESS_SCRIPT = new RedisScript(
  'lockout-success',
  `${LOCKOUT_LUA_PRELUDE}
-- Only this attempt is given back: other attempts of the pair still being verified (concurrent
-- guesses) stay counted, so a correct login cannot make in-flight wrong guesses disappear.
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], rid)
redis.call('ZREM', KEYS[3], rid)
redis.call('ZREM', KEYS[4], rid)
redis.call('ZADD', KEYS[5], now, addr)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - knownTtl)
redis.call('PEXPIRE', KEYS[5], knownTtl)
return 1
`,
);
