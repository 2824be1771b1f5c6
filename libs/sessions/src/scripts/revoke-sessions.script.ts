import { RedisScript } from '@nest-hardening/redis';

import { declaredSessionsLua } from './declared-sessions.lua';

/**
 * Ends sessions of one user.
 *
 * KEYS[1] user index     {u:<uid>}:sessions
 * KEYS[2..] every session hash the index named when the caller read it (see declared-sessions.lua)
 * ARGV    mode ('one' | 'others' | 'all'), sid (the one to end, or the one to keep), channel
 * Returns the ids of the sessions ended (empty when 'one' names a session the user does not have),
 * -1 when the index names a session not in KEYS (read it again), or -2 when 'others' keeps a session
 * that has ended: nothing is ended then, so two devices that each end "every other session" at the
 * same moment leave one of them signed in, not none.
 *
 * Invariant: a session is ended by deleting its hash and its index entry in the same step and
 * announcing it on `channel`; the access tokens of an ended session fail the check at once.
 */
/** The script's answer when 'others' keeps a session that has ended. */
export const KEPT_SESSION_ENDED = -2;

export const REVOKE_SESSIONS_SCRIPT = new RedisScript(
  'revoke-sessions',
  `${declaredSessionsLua(2)}
if undeclared() then return -1 end
local mode, sid = ARGV[1], ARGV[2]
local targets = {}
if mode == 'others' and (not declared[sid] or redis.call('EXISTS', declared[sid]) == 0) then return -2 end
if mode == 'one' then
  if redis.call('ZSCORE', KEYS[1], sid) then targets = { sid } end
else
  for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if mode == 'all' or member ~= sid then table.insert(targets, member) end
  end
end
local ended = {}
for _, target in ipairs(targets) do
  redis.call('ZREM', KEYS[1], target)
  if redis.call('DEL', declared[target]) == 1 then
    redis.call('PUBLISH', ARGV[3], 's:' .. target)
    table.insert(ended, target)
  end
end
return ended
`,
);
