import { RedisScript, SCRIPT_DEADLINE_LUA } from '@nest-hardening/redis';

import { LOCKOUT_LUA_PRELUDE } from './prelude.script';
import { ADDRESS_CHECK_LUA, ADDRESS_RESERVE_LUA, BIND_ADDRESS_KEYS_LUA, RESERVE_HELPERS_LUA } from './reserve.lua';

/**
 * Step 1 of a reservation on Redis Cluster, in the address's slot: checks the address's spraying
 * block and budget and, when neither refuses, reserves the attempt in the address window. Step 2 is
 * {@link RESERVE_ACCOUNT_SCRIPT}; when it refuses, the caller releases this reservation.
 *
 * KEYS: 1 ip pending, 2 ip failed, 3 ip block (all `{ip:<ah>}`)
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}, then 17 the deadline ({@link SCRIPT_DEADLINE_LUA}).
 * Returns: `{1, now}` when reserved; `{0, waitMs, 'ip', now}` when refused; `{'late', now}`, having
 *          changed nothing, after the deadline.
 * Invariant: pending + failed of the address window never exceeds ipMax (the check and the
 *            reservation are one step); a refused attempt is not counted and extends nothing.
 */
export const RESERVE_ADDRESS_SCRIPT = new RedisScript(
  'lockout-reserve-address',
  `${LOCKOUT_LUA_PRELUDE}${SCRIPT_DEADLINE_LUA}${RESERVE_HELPERS_LUA}${BIND_ADDRESS_KEYS_LUA(1)}
${ADDRESS_CHECK_LUA}
if waitMs > 0 then return {0, math.ceil(waitMs), reason, now} end
${ADDRESS_RESERVE_LUA}
return {1, now}
`,
);
