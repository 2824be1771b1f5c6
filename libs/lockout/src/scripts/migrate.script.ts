import { RedisScript } from '@nest-hardening/redis';

import { ADDRESS_TRACKING_LUA, VOID_STALE_PAIR_LUA } from './addresses.lua';
import { LOCKOUT_LUA_PRELUDE } from './prelude.script';
import { BIND_ACCOUNT_KEYS_LUA } from './reserve.lua';

/**
 * A rotation of the lockout key secret moves one (account, address)'s state from its names under
 * the previous secret to its names under the current one, one slot at a time, so it works on a
 * Redis Cluster (old and new names hash to different slots): per slot pair, TAKE copies the old
 * state (old slot), PUT merges the copy into the new names (new slot), DROP removes from the old
 * names exactly what was copied (old slot). The store runs the three before a reservation, so the
 * reservation, unchanged, sees every count.
 *
 * Invariant: nothing counted is lost or counted twice, whatever runs concurrently or stops between
 * steps. Every merge is idempotent (windows are unions of unique reservation ids; lock ends, levels
 * and last-success times keep the greater value, with the longer expiry), and DROP removes only
 * entries and values still equal to the copy, so writes made meanwhile stay for the next move. The
 * one sum, the failure streak, is first parked in the old slot under an id (`streak:moving`); PUT
 * adds a parcel at most once (marker `moved:<id>` in the new slot, living as long as the parcel),
 * and an unfinished move is found and finished by the next one. Until then the old names still
 * hold the copy, so a crash between steps loses nothing.
 *
 * An unlock wins over a move in flight: it clears the old names before the new ones, and PUT merges
 * nothing when the account's unlock generation under the new names changed since before TAKE (the
 * copy may hold state the unlock cleared); DROP is then skipped, so whatever the unlock did not
 * clear (written after it) stays for the next move.
 */
const MOVE_HELPERS_LUA = `
local function snapshot(key, kind)
  if redis.call('EXISTS', key) == 0 then return false end
  local ttl = redis.call('PTTL', key)
  if kind == 'window' then return {ttl = ttl, entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')} end
  return {ttl = ttl, value = redis.call('GET', key)}
end

local function merge(key, kind, s)
  if kind == 'window' then
    for i = 1, #s.entries, 2 do redis.call('ZADD', key, 'GT', s.entries[i + 1], s.entries[i]) end
  else
    local current = redis.call('GET', key)
    if not current or tonumber(s.value) > tonumber(current) then redis.call('SET', key, s.value, 'KEEPTTL') end
  end
  if s.ttl > 0 and redis.call('PTTL', key) < s.ttl then redis.call('PEXPIRE', key, s.ttl) end
end

local function drop(key, kind, s)
  if kind == 'window' then
    for i = 1, #s.entries, 2 do redis.call('ZREM', key, s.entries[i]) end
  elseif redis.call('GET', key) == s.value then
    redis.call('DEL', key)
  end
end
`;

const ACCOUNT_ROLES_LUA = `
local notifiedKey = KEYS[13]
local roles = {pairPendingKey, pairFailedKey, pairLockKey, pairLevelKey, emailPendingKey, emailLockKey, notifiedKey}
local kinds = {'window', 'window', 'later', 'later', 'window', 'later', 'later'}
`;

const ADDRESS_ROLES_LUA = `
local roles = {KEYS[1], KEYS[2], KEYS[3]}
local kinds = {'window', 'window', 'later'}
`;

/**
 * Step 1 in the account's slot under the previous names: copies the pair state of this address,
 * the account's windows and locks and this address's last success and last attempt, and parks the failure streak
 * (or returns the parcel an unfinished move left). Pair state an unlock voided is deleted first.
 *
 * KEYS: the account keys of {@link BIND_ACCOUNT_KEYS_LUA} (1-12), 13 notified, 14 streak parcel
 *       (all `{e:<old eh>}`)
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE} (address hash under the previous secret),
 *       17 a fresh parcel id
 * Returns: '' when there is nothing to move, else the copy as JSON
 *          `{keys: [snapshot|false] x7, known, knownTtl, knownAbove: [time], seenAt, parcel: {id, count, ttl}|false}`.
 */
export const TAKE_ACCOUNT_STATE_SCRIPT = new RedisScript(
  'lockout-move-account-take',
  `${LOCKOUT_LUA_PRELUDE}${BIND_ACCOUNT_KEYS_LUA}${ADDRESS_TRACKING_LUA}${VOID_STALE_PAIR_LUA}${MOVE_HELPERS_LUA}${ACCOUNT_ROLES_LUA}
local parcelKey = KEYS[14]
local copy, found = {keys = {}, known = false, knownTtl = 0, parcel = false}, false
for i, key in ipairs(roles) do
  copy.keys[i] = snapshot(key, kinds[i])
  if copy.keys[i] then found = true end
end
local known = redis.call('ZSCORE', knownKey, addr)
if known then
  copy.known, copy.knownTtl, found = known, redis.call('PTTL', knownKey), true
  -- Known addresses are moved one by one (their names change with the secret): the times of those
  -- more recent than this one still under the old names count against the cap where it lands.
  copy.knownAbove = {}
  local above = redis.call('ZRANGE', knownKey, '(' .. known, '+inf', 'BYSCORE', 'WITHSCORES')
  for i = 2, #above, 2 do table.insert(copy.knownAbove, above[i]) end
end
-- Its last attempt: the move lists it where it was, and takes it off the old list (a legacy set has no times: now).
copy.seenAt = redis.call('ZSCORE', seenKey, addr) or (redis.call('SISMEMBER', legacyKey, addr) == 1 and tostring(now))
if copy.seenAt then found = true end
local streak = redis.call('GET', emailStreakKey)
if streak and redis.call('EXISTS', parcelKey) == 0 then
  local ttl = redis.call('PTTL', emailStreakKey)
  if ttl <= 0 then ttl = emailLock end
  redis.call('HSET', parcelKey, 'id', ARGV[17], 'count', streak)
  redis.call('PEXPIRE', parcelKey, ttl)
  redis.call('DEL', emailStreakKey)
end
if redis.call('EXISTS', parcelKey) == 1 then
  local parcel = redis.call('HMGET', parcelKey, 'id', 'count')
  copy.parcel, found = {id = parcel[1], count = parcel[2], ttl = redis.call('PTTL', parcelKey)}, true
end
if not found then return '' end
return cjson.encode(copy)
`,
);

/**
 * Step 2 in the account's slot under the current names: merges the copy of step 1 and lists the
 * address at its last attempt under the old names (or, when its pair state moved after it was
 * dropped from that list, stamps it for an unlock to reach). Idempotent (the streak parcel is added
 * at most once).
 *
 * Merges nothing when the account's unlock generation (KEYS[12]) differs from ARGV 18, read before
 * step 1: an unlock since may have cleared the state the copy holds (see the store's moveAccount).
 *
 * KEYS: the account keys (1-12), 13 notified, 14 the parcel's marker `moved:<id>` (all `{e:<new eh>}`)
 * ARGV: the common layout (address hash under the current secret), 17 the copy (JSON), 18 the unlock
 *       generation under the current names read before step 1 ('0' if none)
 * Returns: 1 when merged; 0 when skipped for an unlock, and then step 3 is not run either.
 */
export const PUT_ACCOUNT_STATE_SCRIPT = new RedisScript(
  'lockout-move-account-put',
  `${LOCKOUT_LUA_PRELUDE}${BIND_ACCOUNT_KEYS_LUA}${ADDRESS_TRACKING_LUA}${VOID_STALE_PAIR_LUA}${MOVE_HELPERS_LUA}${ACCOUNT_ROLES_LUA}
if generation ~= tonumber(ARGV[18]) then return 0 end
local copy = cjson.decode(ARGV[17])
local pairMoved = false
for i, key in ipairs(roles) do
  if copy.keys[i] then
    merge(key, kinds[i], copy.keys[i])
    if i <= 4 then pairMoved = true end
  end
end
-- Known only while among the addrCap most recent of both names: successes since may have pushed it out.
-- A time in both lists is one address moved meanwhile (the new names' own entries are all later
-- than the old ones'), counted once.
local function knownAbove()
  local count, moved = 0, {}
  local above = redis.call('ZRANGE', knownKey, '(' .. copy.known, '+inf', 'BYSCORE', 'WITHSCORES')
  for i = 2, #above, 2 do
    moved[above[i]] = (moved[above[i]] or 0) + 1
    count = count + 1
  end
  for _, at in ipairs(copy.knownAbove) do
    if (moved[at] or 0) > 0 then moved[at] = moved[at] - 1 else count = count + 1 end
  end
  return count
end
if copy.known and (redis.call('ZSCORE', knownKey, addr) or knownAbove() < addrCap) then
  redis.call('ZADD', knownKey, 'GT', copy.known, addr)
  redis.call('ZREMRANGEBYRANK', knownKey, 0, -addrCap - 1)
  if redis.call('PTTL', knownKey) < copy.knownTtl then redis.call('PEXPIRE', knownKey, copy.knownTtl) end
end
if copy.parcel and copy.parcel.ttl > 0 and redis.call('SET', KEYS[14], '1', 'NX', 'PX', copy.parcel.ttl) then
  redis.call('INCRBY', emailStreakKey, copy.parcel.count)
  if redis.call('PTTL', emailStreakKey) < copy.parcel.ttl then redis.call('PEXPIRE', emailStreakKey, copy.parcel.ttl) end
end
if copy.seenAt then
  trackAddress(tonumber(copy.seenAt))
elseif pairMoved and not redis.call('ZSCORE', seenKey, addr) then
  -- Dropped from the old list before the move: it stays unlisted, and an unlock still reaches it.
  stampEvicted(string.sub(pairPendingKey, 1, -8))
end
return 1
`,
);

/**
 * Step 3 in the account's slot under the previous names: removes what step 1 copied (window
 * entries by id, values only if unchanged, the parcel by its id) and forgets the address there
 * once it has no pair state left.
 *
 * KEYS: as {@link TAKE_ACCOUNT_STATE_SCRIPT}
 * ARGV: the common layout (address hash under the previous secret), 17 the copy (JSON)
 * Returns: 1.
 */
export const DROP_ACCOUNT_STATE_SCRIPT = new RedisScript(
  'lockout-move-account-drop',
  `${LOCKOUT_LUA_PRELUDE}${BIND_ACCOUNT_KEYS_LUA}${MOVE_HELPERS_LUA}${ACCOUNT_ROLES_LUA}
local copy = cjson.decode(ARGV[17])
for i, key in ipairs(roles) do
  if copy.keys[i] then drop(key, kinds[i], copy.keys[i]) end
end
if copy.known and redis.call('ZSCORE', knownKey, addr) == copy.known then redis.call('ZREM', knownKey, addr) end
if copy.parcel and redis.call('HGET', KEYS[14], 'id') == copy.parcel.id then redis.call('DEL', KEYS[14]) end
if redis.call('EXISTS', pairPendingKey, pairFailedKey, pairLockKey, pairLevelKey) == 0 then
  redis.call('ZREM', seenKey, addr)
  redis.call('SREM', legacyKey, addr)
  redis.call('DEL', pairEvictedKey)
end
return 1
`,
);

/**
 * Step 1 in the address's slot under the previous names: copies its spraying windows and block.
 *
 * KEYS: 1 ip pending, 2 ip failed, 3 ip block (all `{ip:<old ah>}`)
 * ARGV: none.
 * Returns: '' when there is nothing to move, else `{keys: [snapshot|false] x3}` as JSON.
 */
export const TAKE_ADDRESS_STATE_SCRIPT = new RedisScript(
  'lockout-move-address-take',
  `${MOVE_HELPERS_LUA}${ADDRESS_ROLES_LUA}
local copy, found = {keys = {}}, false
for i, key in ipairs(roles) do
  copy.keys[i] = snapshot(key, kinds[i])
  if copy.keys[i] then found = true end
end
if not found then return '' end
return cjson.encode(copy)
`,
);

/**
 * Step 2 in the address's slot under the current names: merges the copy (idempotent).
 * KEYS: as {@link TAKE_ADDRESS_STATE_SCRIPT} (`{ip:<new ah>}`); ARGV: 1 the copy (JSON). Returns: 1.
 */
export const PUT_ADDRESS_STATE_SCRIPT = new RedisScript(
  'lockout-move-address-put',
  `${MOVE_HELPERS_LUA}${ADDRESS_ROLES_LUA}
local copy = cjson.decode(ARGV[1])
for i, key in ipairs(roles) do
  if copy.keys[i] then merge(key, kinds[i], copy.keys[i]) end
end
return 1
`,
);

/**
 * Step 3 in the address's slot under the previous names: removes what step 1 copied.
 * KEYS: as {@link TAKE_ADDRESS_STATE_SCRIPT} (`{ip:<old ah>}`); ARGV: 1 the copy (JSON). Returns: 1.
 */
export const DROP_ADDRESS_STATE_SCRIPT = new RedisScript(
  'lockout-move-address-drop',
  `${MOVE_HELPERS_LUA}${ADDRESS_ROLES_LUA}
local copy = cjson.decode(ARGV[1])
for i, key in ipairs(roles) do
  if copy.keys[i] then drop(key, kinds[i], copy.keys[i]) end
end
return 1
`,
);
