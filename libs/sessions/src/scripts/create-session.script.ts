import { REDIS_NOW_LUA, RedisScript, SCRIPT_DEADLINE_LUA } from '@nest-hardening/redis';

/**
 * Creates a session and enforces the per-user cap, unless the user's authorization changed since
 * the caller read it.
 *
 * KEYS[1] session hash           {u:<uid>}:s:<sid>
 * KEYS[2] user index             {u:<uid>}:sessions
 * KEYS[3] authorization version  {u:<uid>}:authv
 * ARGV    sid, uid, role, idleMs, absoluteMs, ip, deviceLabel, fpUa, fpIp, maxSessions, channel, authVersion,
 *         deadline ({@link SCRIPT_DEADLINE_LUA})
 * Returns { expiresAtMs, absoluteExpiresAtMs, { evictedSid, ... }, createdAtMs }; { -1, nowMs } when the
 *         user's authorization version is newer than `authVersion`; or { 'late', nowMs } when Redis
 *         ran the call after its caller had answered 503. Nothing is written in the last two cases:
 *         a late one would leave a session no client holds, counted against the cap, which could
 *         end one of the user's real sessions to make room for it.
 *
 * Invariant: no session is ever created under an authorization version older than the current one,
 * so a login that checked a password (or read a role) before a change cannot add a session after
 * the change ended the others. After the script a user has at most `maxSessions` live sessions and
 * the new one is among them: of the others, the ones with the nearest expiry (the least recently
 * refreshed) are ended first and announced on `channel`. The index expires with the last of the
 * sessions it names. Time comes from the Redis server so every instance agrees on it.
 */
export const CREATE_SESSION_SCRIPT = new RedisScript(
  'create-session',
  `
${REDIS_NOW_LUA}${SCRIPT_DEADLINE_LUA}
if tonumber(redis.call('GET', KEYS[3]) or '0') > tonumber(ARGV[12]) then return { -1, now } end
local sid, uid, role = ARGV[1], ARGV[2], ARGV[3]
local idle, absolute, max = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[10])
local absExp = now + absolute
local exp = math.min(now + idle, absExp)
redis.call('HSET', KEYS[1], 'uid', uid, 'role', role, 'createdAt', now, 'lastSeenAt', now,
  'absExp', absExp, 'exp', exp, 'gen', 0, 'rotatedAt', 0, 'ip', ARGV[6], 'dev', ARGV[7],
  'fpUa', ARGV[8], 'fpIp', ARGV[9], 'authv', ARGV[12])
redis.call('PEXPIREAT', KEYS[1], exp)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local evicted = {}
-- Evict before indexing the new session, so it is never a candidate: after a lower idle limit, or
-- beside logins of the same millisecond, its own expiry can be the nearest.
local excess = redis.call('ZCARD', KEYS[2]) + 1 - max
if excess > 0 then
  local base = string.sub(KEYS[2], 1, -9) -- strip 'sessions', keep '<prefix>{u:<uid>}:'
  local popped = redis.call('ZPOPMIN', KEYS[2], excess)
  for i = 1, #popped, 2 do
    redis.call('DEL', base .. 's:' .. popped[i])
    redis.call('PUBLISH', ARGV[11], 's:' .. popped[i])
    table.insert(evicted, popped[i])
  end
end
redis.call('ZADD', KEYS[2], exp, sid)
-- The index lives as long as its longest-lived session (scores are expiries), never less: a login
-- under a lowered absolute limit must not drop the index of the sessions made under the old one.
redis.call('PEXPIREAT', KEYS[2], redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')[2])
return { exp, absExp, evicted, now }
`,
);
