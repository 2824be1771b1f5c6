import { REDIS_NOW_LUA, RedisScript, SCRIPT_DEADLINE_LUA } from '@nest-hardening/redis';

/**
 * Checks a presented refresh token generation against the session and rotates it, atomically.
 *
 * KEYS[1] session hash           {u:<uid>}:s:<sid>
 * KEYS[2] user index             {u:<uid>}:sessions
 * KEYS[3] authorization version  {u:<uid>}:authv
 * ARGV    sid, presentedGeneration, graceMs, idleMs, fpUa, fpIp, uaPolicy, ipPolicy, channel,
 *         previousFpUa, previousFpIp (under the previous fingerprint secret during a rotation, else ''),
 *         deadline ({@link SCRIPT_DEADLINE_LUA})
 * Returns { outcome, generation, expiresAtMs, role, uaMismatch(0/1), ipMismatch(0/1), nowMs } where outcome is
 *   'rotated'     presented == current: generation+1 is now current (the successor)
 *   'grace'       presented == current-1 within graceMs of that rotation, from the network that made
 *                 the rotation (unless ipPolicy is 'off'): the same successor again
 *   'reuse'       an older generation (or the previous one after the grace window, or from another
 *                 network inside it): session revoked
 *   'fingerprint' a 'strict' fingerprint policy failed: session revoked
 *   'invalid'     no such session (ended, expired), one created under an older authorization
 *                 version (revoked), or a generation that was never issued
 * or { 'late', nowMs } when Redis ran the call after its caller had answered 503: nothing changed,
 * so the token that client still holds stays current (otherwise its retry would count as reuse).
 *
 * Invariant: for one session at most one generation is ever current, so any number of concurrent
 * refreshes with one token yield a single successor (never two live branches). Rotation moves
 * the idle expiry forward but never past the absolute expiry set at login. A stored fingerprint
 * equal to the previous-secret one counts as a match, and a rotation stores the current-secret one
 * in its place, so a session outlives the end of the secret's overlap.
 */
export const ROTATE_REFRESH_TOKEN_SCRIPT = new RedisScript(
  'rotate-refresh-token',
  `
${REDIS_NOW_LUA}${SCRIPT_DEADLINE_LUA}
local s = redis.call('HMGET', KEYS[1], 'gen', 'rotatedAt', 'absExp', 'exp', 'fpUa', 'fpIp', 'role', 'authv', 'rotIp')
if not s[1] then return { 'invalid', -1, 0, '', 0, 0, now } end
local gen, rotatedAt, absExp, exp = tonumber(s[1]), tonumber(s[2]), tonumber(s[3]), tonumber(s[4])
local presented = tonumber(ARGV[2])
local function revoke()
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('PUBLISH', ARGV[9], 's:' .. ARGV[1])
end
if now >= exp or tonumber(s[8] or '0') < tonumber(redis.call('GET', KEYS[3]) or '0') then
  revoke()
  return { 'invalid', gen, 0, '', 0, 0, now }
end
-- The previous-secret values are '' when no rotation is under way; a stored fingerprint never is.
local uaPrevious, ipPrevious = s[5] == ARGV[10], s[6] == ARGV[11]
local uaMismatch = (s[5] ~= ARGV[5] and not uaPrevious) and 1 or 0
local ipMismatch = (s[6] ~= ARGV[6] and not ipPrevious) and 1 or 0
if (uaMismatch == 1 and ARGV[7] == 'strict') or (ipMismatch == 1 and ARGV[8] == 'strict') then
  revoke()
  return { 'fingerprint', gen, 0, s[7], uaMismatch, ipMismatch, now }
end
if presented == gen then
  local nextExp = math.min(now + tonumber(ARGV[4]), absExp)
  redis.call('HSET', KEYS[1], 'gen', gen + 1, 'rotatedAt', now, 'lastSeenAt', now, 'exp', nextExp, 'rotIp', ARGV[6])
  if uaPrevious then redis.call('HSET', KEYS[1], 'fpUa', ARGV[5]) end
  if ipPrevious then redis.call('HSET', KEYS[1], 'fpIp', ARGV[6]) end
  redis.call('PEXPIREAT', KEYS[1], nextExp)
  redis.call('ZADD', KEYS[2], nextExp, ARGV[1])
  -- As at login: the index expires with the last of its sessions (ZADD may have created it).
  redis.call('PEXPIREAT', KEYS[2], redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2])
  return { 'rotated', gen + 1, nextExp, s[7], uaMismatch, ipMismatch, now }
end
-- graceMs 0 disables the window, even for a replay in the same server millisecond.
local graceMs = tonumber(ARGV[3])
-- A rotation made before 'rotIp' was recorded (rolling deployment) keeps its grace.
local sameNetwork = ARGV[8] == 'off' or not s[9] or s[9] == ARGV[6] or s[9] == ARGV[11]
if presented == gen - 1 and graceMs > 0 and now - rotatedAt <= graceMs and sameNetwork then
  return { 'grace', gen, exp, s[7], uaMismatch, ipMismatch, now }
end
if presented < gen then
  revoke()
  return { 'reuse', gen, 0, s[7], uaMismatch, ipMismatch, now }
end
return { 'invalid', gen, 0, '', 0, 0, now }
`,
);
