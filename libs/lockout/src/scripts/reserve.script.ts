import { RedisScript, SCRIPT_DEADLINE_LUA } from '@nest-hardening/redis';

import { LOCKOUT_LUA_PRELUDE } from './prelude.script';
import {
  ACCOUNT_CHECK_LUA,
  ACCOUNT_RESERVE_LUA,
  ADDRESS_CHECK_LUA,
  ADDRESS_RESERVE_LUA,
  BIND_ACCOUNT_KEYS_LUA,
  BIND_ADDRESS_KEYS_LUA,
  RESERVE_HELPERS_LUA,
} from './reserve.lua';

/**
 * Checks every lock that applies to one login attempt and, when none does, reserves the attempt as
 * a pending failure in the pair, account and address windows, in one step: concurrent logins cannot
 * all pass the check before any of them is counted (KC#31726, django-axes#592, CVE-2023-33170).
 * Single Redis only (its keys span two slots); a Cluster runs the same rules in two steps
 * ({@link RESERVE_ADDRESS_SCRIPT}, then {@link RESERVE_ACCOUNT_SCRIPT}).
 *
 * KEYS: 1 pair pending, 2 pair failed, 3 pair lock, 4 pair level, 5 email pending, 6 email streak,
 *       7 email lock, 8 known addresses, 9 seen addresses, 10 legacy address set, 11 pair evicted,
 *       12 unlock generation, 13 ip pending, 14 ip failed, 15 ip block
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}, then 17 the deadline ({@link SCRIPT_DEADLINE_LUA}).
 * Returns: `{1, exempt, now}` when reserved (exempt = 1 if the address is known, so not counted against
 *          the account ceiling); `{0, waitMs, reason, now}` when refused (reason `pair`, `email` or `ip`,
 *          the rule with the latest end); `{'late', now}`, having changed nothing, after the deadline.
 * Invariant: in every window, pending + failed never exceeds its maximum, and for the account,
 *            pending + consecutive failures never exceeds the ceiling (NIST SP 800-63B: at most 100
 *            consecutive failures); a refused attempt is not counted and extends nothing; waitMs is
 *            never earlier than the end of any applying lock.
 */
export const RESERVE_LOGIN_SCRIPT = new RedisScript(
  'lockout-reserve',
  `${LOCKOUT_LUA_PRELUDE}${SCRIPT_DEADLINE_LUA}${RESERVE_HELPERS_LUA}${BIND_ACCOUNT_KEYS_LUA}${BIND_ADDRESS_KEYS_LUA(13)}
${ADDRESS_CHECK_LUA}${ACCOUNT_CHECK_LUA}
if waitMs > 0 then return {0, math.ceil(waitMs), reason, now} end
${ACCOUNT_RESERVE_LUA}${ADDRESS_RESERVE_LUA}
if exempt then return {1, 1, now} end
return {1, 0, now}
`,
);
