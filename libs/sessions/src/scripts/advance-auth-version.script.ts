import { RedisScript } from '@nest-hardening/redis';

import { declaredSessionsLua } from './declared-sessions.lua';

/**
 * Publishes a new authorization version of a user and ends the sessions created under an older one.
 *
 * KEYS[1] user index             {u:<uid>}:sessions
 * KEYS[2] authorization version  {u:<uid>}:authv
 * KEYS[3..] every session hash the index named when the caller read it (see declared-sessions.lua)
 * ARGV    version (from Postgres, strictly increasing per user), keepSid ('' = end all), channel,
 *         keepFrom (keepSid is kept only if it is at this version or newer: the version its password check read)
 * Returns { complete, { endedSid, ... } }: complete is 0 when the index names a session not in KEYS,
 * which was left alone (read the index again and call again to end it).
 *
 * Invariant: the stored version never goes down (a late, older call changes no version, the kept
 * session's included, but still ends the sessions it must), and it is published even by an incomplete
 * call, so that from then on no login that read an older version adds a session: logins with the old
 * credentials cannot keep the index changing under the caller's retries. After a complete call every
 * live session of the user created under an older version than the published one, except `keepSid`
 * when it is at `keepFrom` or newer (moved to the published version by a call that is not late), has ended and been
 * announced on `channel`, and no session can be created or refreshed under an older version (see
 * create-session and rotate-refresh-token). A session created under the new version stays: a login
 * that read the change from Postgres before this call, or before a retry of it after Redis failed,
 * is a login with the new credentials.
 */
export const ADVANCE_AUTH_VERSION_SCRIPT = new RedisScript(
  'advance-auth-version',
  `${declaredSessionsLua(3)}
local version = tonumber(ARGV[1])
local published = tonumber(redis.call('GET', KEYS[2]) or '0')
-- A late call (a newer version is published) moves no session: the kept one stays at its version,
-- for the newer change (or its retry) to end or keep.
local late = version < published
if version > published then redis.call('SET', KEYS[2], version) else version = published end
local ended = {}
local complete = 1
local keepFrom = tonumber(ARGV[4] or '0') or 0
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = declared[sid]
  if not key then
    complete = 0
  else
    local authv = tonumber(redis.call('HGET', key, 'authv') or '0')
    if sid == ARGV[2] and authv >= keepFrom then
      if not late and redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'authv', version) end
    elseif authv < version then
      redis.call('ZREM', KEYS[1], sid)
      if redis.call('DEL', key) == 1 then
        redis.call('PUBLISH', ARGV[3], 's:' .. sid)
        table.insert(ended, sid)
      end
    end
  end
end
return { complete, ended }
`,
);
