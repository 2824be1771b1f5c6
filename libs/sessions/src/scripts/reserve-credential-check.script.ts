import { REDIS_NOW_LUA, RedisScript, SCRIPT_DEADLINE_LUA } from '@nest-hardening/redis';

/**
 * Counts one current-password check made with a session (a password change), before the password
 * is verified, and ends the session once it has used up its checks.
 *
 * KEYS[1] session hash   {u:<uid>}:s:<sid>
 * KEYS[2] user index     {u:<uid>}:sessions
 * ARGV    sid, maxChecks, channel, deadline ({@link SCRIPT_DEADLINE_LUA})
 * Returns { n, nowMs } where n is the number of this check (1..maxChecks) when it may proceed; 0 when
 * the session had no checks left (it has been ended); -1 when there is no such session; or
 * { 'late', nowMs } when Redis ran the call after its caller had answered 503: nothing is counted,
 * since no password was verified for it (otherwise a few 503s during a stall would end the session
 * as if it had guessed wrong).
 *
 * Invariant: however many requests race, at most `maxChecks` passwords are verified per session
 * until a check succeeds (the caller then resets the count); the count lives in the session hash
 * and ends with it.
 */
export const RESERVE_CREDENTIAL_CHECK_SCRIPT = new RedisScript(
  'reserve-credential-check',
  `
${REDIS_NOW_LUA}${SCRIPT_DEADLINE_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return { -1, now } end
local n = redis.call('HINCRBY', KEYS[1], 'pwchk', 1)
if n <= tonumber(ARGV[2]) then return { n, now } end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[3], 's:' .. ARGV[1])
return { 0, now }
`,
);
