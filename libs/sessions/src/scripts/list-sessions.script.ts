import { RedisScript } from '@nest-hardening/redis';

/**
 * Reads every live session of a user in one round trip, pruning index entries whose session has
 * expired or vanished (so the index never grows beyond the live sessions plus the per-user cap).
 *
 * KEYS[1] user index     {u:<uid>}:sessions
 * Returns a flat list { sid1, fields1 (HGETALL array), sid2, fields2, ... }
 */
export const LIST_SESSIONS_SCRIPT = new RedisScript(
  'list-sessions',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local base = string.sub(KEYS[1], 1, -9)
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local fields = redis.call('HGETALL', base .. 's:' .. sid)
  if #fields == 0 then
    redis.call('ZREM', KEYS[1], sid)
  else
    table.insert(out, sid)
    table.insert(out, fields)
  end
end
return out
`,
);
