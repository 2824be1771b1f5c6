import { REDIS_NOW_LUA, RedisScript } from '@nest-hardening/redis';

import { declaredSessionsLua } from './declared-sessions.lua';

/**
 * Reads every live session of a user in one round trip, pruning index entries whose session has
 * expired or vanished (so the index never grows beyond the live sessions plus the per-user cap).
 *
 * KEYS[1] user index     {u:<uid>}:sessions
 * KEYS[2..] every session hash the index named when the caller read it (see declared-sessions.lua)
 * Returns a flat list { sid1, fields1 (HGETALL array), sid2, fields2, ... }, or -1 when the index
 * names a session not in KEYS (read it again).
 */
export const LIST_SESSIONS_SCRIPT = new RedisScript(
  'list-sessions',
  `${declaredSessionsLua(2)}
${REDIS_NOW_LUA}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if undeclared() then return -1 end
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local fields = redis.call('HGETALL', declared[sid])
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
