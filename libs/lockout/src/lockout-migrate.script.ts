import { RedisScript } from '@nest-hardening/redis';
import type { LockoutKeys } from './lockout.keys';

/** The order in which the migration script receives the keys of one subject, and how each merges. */
export const LOCKOUT_MIGRATION_KEYS: readonly (keyof LockoutKeys)[] = [
  'pairPending',
  'pairFailed',
  'pairLock',
  'pairLevel',
  'emailPending',
  'emailStreak',
  'emailLock',
  'addresses',
  'known',
  'notified',
  'ipPending',
  'ipFailed',
  'ipBlock',
];

/**
 * During a rotation of the lockout key secret, moves the state of one (account, address) from its
 * names under the previous secret to its names under the current one. Run before a reservation, so
 * the reservation script, unchanged, sees every count (reserve-before-verify still holds: it is
 * that script which checks and reserves in one step).
 *
 * KEYS: 1-13 the keys under the previous secret, 14-26 the same keys under the current secret,
 *       both in the order of {@link LOCKOUT_MIGRATION_KEYS}
 * ARGV: 1 address hash under the previous secret, 2 address hash under the current secret
 * Returns: 1.
 * Invariant: nothing counted is lost or counted twice. Windows are unions (reservation ids are
 *            unique), the failure streak adds up, a lock keeps the later end and a backoff level the
 *            higher one, each with the longer expiry; the old key is deleted once merged, so a second
 *            run adds nothing. In the address set and the known addresses only this address moves:
 *            the others are named by hashes under the previous secret, whose pair keys stay under the
 *            previous account name until that address is seen again.
 */
export const MIGRATE_LOCKOUT_KEYS_SCRIPT = new RedisScript(
  'lockout-migrate',
  `
local oldAddr, newAddr = ARGV[1], ARGV[2]
local kinds = {'window', 'window', 'later', 'later', 'window', 'sum', 'later', 'addrs', 'known', 'later', 'window', 'window', 'later'}
local function ttl(key)
  local ms = redis.call('PTTL', key)
  if ms > 0 then return ms end
  return 0
end
for i, kind in ipairs(kinds) do
  local old, new = KEYS[i], KEYS[i + 13]
  if old ~= new and redis.call('EXISTS', old) == 1 then
    local keep = math.max(ttl(old), ttl(new))
    if kind == 'window' then
      redis.call('ZUNIONSTORE', new, 2, new, old, 'AGGREGATE', 'MAX')
      redis.call('DEL', old)
    elseif kind == 'sum' then
      redis.call('INCRBY', new, tonumber(redis.call('GET', old)) or 0)
      redis.call('DEL', old)
    elseif kind == 'later' then
      -- Lock ends (epoch ms), backoff levels and the notification flag: the greater value wins.
      local o, n = redis.call('GET', old), redis.call('GET', new)
      if not n or tonumber(o) > tonumber(n) then redis.call('SET', new, o) end
      redis.call('DEL', old)
    elseif kind == 'addrs' then
      if redis.call('SREM', old, oldAddr) == 1 then redis.call('SADD', new, newAddr) end
    else
      local seen = redis.call('ZSCORE', old, oldAddr)
      if seen then
        redis.call('ZREM', old, oldAddr)
        local current = redis.call('ZSCORE', new, newAddr)
        if not current or tonumber(seen) > tonumber(current) then redis.call('ZADD', new, seen, newAddr) end
      end
    end
    if keep > 0 and redis.call('EXISTS', new) == 1 then redis.call('PEXPIRE', new, keep) end
  end
end
return 1
`,
);
