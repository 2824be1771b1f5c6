import { RedisScript, SCRIPT_DEADLINE_LUA } from '@nest-hardening/redis';

import { LOCKOUT_LUA_PRELUDE } from './prelude.script';
import { ACCOUNT_CHECK_LUA, ACCOUNT_RESERVE_LUA, BIND_ACCOUNT_KEYS_LUA, RESERVE_HELPERS_LUA } from './reserve.lua';

/**
 * Step 2 of a reservation on Redis Cluster, in the account's slot: checks the pair lock and window
 * and, unless the address is known, the account lock and failure streak; when none refuses,
 * reserves the attempt in the pair and (not exempt) account windows and records the address.
 * With mode `peek` it only computes the wait (the address step refused, and the announced
 * Retry-After must not be earlier than the end of the account's own locks).
 *
 * KEYS: 1 pair pending, 2 pair failed, 3 pair lock, 4 pair level, 5 email pending, 6 email streak,
 *       7 email lock, 8 known addresses, 9 seen addresses, 10 legacy address set, 11 pair evicted,
 *       12 unlock generation (all `{e:<eh>}`)
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}, then 17 mode: `reserve` or `peek`, 18 the
 *       deadline ({@link SCRIPT_DEADLINE_LUA}).
 * Returns: `{1, exempt, now}` when reserved (or, when peeking, when it would be); `{0, waitMs, reason,
 *          now}` when refused (reason `pair` or `email`, the rule with the latest end); `{'late', now}`,
 *          having changed nothing, after the deadline.
 * Invariant: pending + failed of the pair window never exceeds pairMax, and pending + streak of the
 *            account never exceeds emailMax; a refused or peeked attempt is not counted.
 */
export const RESERVE_ACCOUNT_SCRIPT = new RedisScript(
  'lockout-reserve-account',
  `${LOCKOUT_LUA_PRELUDE}${SCRIPT_DEADLINE_LUA}${RESERVE_HELPERS_LUA}${BIND_ACCOUNT_KEYS_LUA}
${ACCOUNT_CHECK_LUA}
if waitMs > 0 then return {0, math.ceil(waitMs), reason, now} end
if ARGV[17] == 'reserve' then
${ACCOUNT_RESERVE_LUA}
end
if exempt then return {1, 1, now} end
return {1, 0, now}
`,
);
