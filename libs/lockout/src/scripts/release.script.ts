import { RedisScript } from '@nest-hardening/redis';

import { LOCKOUT_LUA_PRELUDE } from './prelude.script';

/**
 * Gives back a reserved attempt whose password was never checked (the request was refused after
 * the guard, e.g. by body validation, or failed before the verification): it leaves the pair,
 * account and address windows as if it had never been made. Also gives the address's window back
 * after a success, and refunds the address step of a reservation whose account step refused.
 *
 * KEYS: pending windows of ONE slot: pair pending and email pending (`{e:<eh>}`), or ip pending
 *       (`{ip:<ah>}`); the store calls it once per slot
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE} (only the reservation id is used).
 * Returns: the number of windows the reservation was still pending in (0 = already settled).
 * Invariant: only a still-pending reservation is removed; confirmed failures and locks are never
 *            touched, so releasing a settled reservation changes nothing.
 */
export const RELEASE_RESERVATION_SCRIPT = new RedisScript(
  'lockout-release',
  `${LOCKOUT_LUA_PRELUDE}
local removed = 0
for _, key in ipairs(KEYS) do removed = removed + redis.call('ZREM', key, rid) end
return removed
`,
);
