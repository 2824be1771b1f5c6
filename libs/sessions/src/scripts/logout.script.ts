import { RedisScript } from '@nest-hardening/redis';

/**
 * Logout in one round trip: ends the session and denylists the access token used, and announces
 * both, so every process drops its cached answers at once.
 *
 * KEYS[1] session hash       {u:<uid>}:s:<sid>
 * KEYS[2] user index         {u:<uid>}:sessions
 * KEYS[3] denylisted token   {u:<uid>}:deny:<jti>
 * ARGV    sid, jti, tokenTtlMs (its remaining life; <= 0 writes no denylist entry), channel
 * Returns 1 when the token was live (its session existed and it was not denylisted), else 0: the
 * handler relies on it instead of the guard's session check (`@SessionCheckedByHandler()`).
 *
 * Invariant: after the script neither the session nor the token passes the revocation check.
 */
export const LOGOUT_SCRIPT = new RedisScript(
  'logout',
  `
local denied = redis.call('EXISTS', KEYS[3])
redis.call('ZREM', KEYS[2], ARGV[1])
local ended = redis.call('DEL', KEYS[1])
if ended == 1 then redis.call('PUBLISH', ARGV[4], 's:' .. ARGV[1]) end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[3], '1', 'PX', ttl)
  redis.call('PUBLISH', ARGV[4], 'j:' .. ARGV[2])
end
if ended == 1 and denied == 0 then return 1 end
return 0
`,
);
