import { RedisScript } from '@nest-hardening/redis';

import { LOCKOUT_LUA_PRELUDE } from './prelude.script';

/**
 * Lua that collects an account's lockout state into a flat array (shared by the read and the
 * unlock script, so unlock returns exactly what it cleared). Pair keys are derived from the `seen`
 * key: `<base>:seen` -> `<base>:pair:<ah>:<role>` (see lockout.keys.ts). It reads at most
 * `addrCap` addresses: those of `seen`, then, while the legacy `addrs` set still exists, a sample
 * of it.
 *
 * Layout: {emailLockedUntil, emailFailures, emailPending, count, then per address:
 *          addressHash, lockedUntil, backoffLevel, failures, pending, lastSuccessAt}
 */
const COLLECT_STATE_LUA = `
local base = string.sub(KEYS[1], 1, -6)
local function pairKey(ah, role) return base .. ':pair:' .. ah .. ':' .. role end
local function inWindow(key, window) return redis.call('ZCOUNT', key, '(' .. (now - window), '+inf') end
local members = redis.call('ZREVRANGE', KEYS[1], 0, addrCap - 1)
if #members < addrCap then
  local listed = {}
  for _, ah in ipairs(members) do listed[ah] = true end
  for _, ah in ipairs(redis.call('SRANDMEMBER', KEYS[6], addrCap - #members)) do
    if not listed[ah] then table.insert(members, ah) end
  end
end
local state = {lockedUntil(KEYS[4]), tonumber(redis.call('GET', KEYS[3]) or '0'), inWindow(KEYS[2], emailWindow), #members}
for _, ah in ipairs(members) do
  table.insert(state, ah)
  table.insert(state, lockedUntil(pairKey(ah, 'lock')))
  table.insert(state, tonumber(redis.call('GET', pairKey(ah, 'level')) or '0'))
  table.insert(state, inWindow(pairKey(ah, 'failed'), pairWindow))
  table.insert(state, inWindow(pairKey(ah, 'pending'), pairWindow))
  table.insert(state, tonumber(redis.call('ZSCORE', KEYS[5], ah) or '0'))
end
`;

/**
 * Reads an account's lockout state (at most `addressCap` addresses, the most recent). Writes nothing.
 *
 * KEYS: 1 seen addresses, 2 email pending, 3 email streak, 4 email lock, 5 known addresses,
 *       6 legacy address set, 7 unlock generation, 8 streak being moved
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}.
 * Returns: the flat state array described above.
 */
export const READ_STATE_SCRIPT = new RedisScript(
  'lockout-state',
  `${LOCKOUT_LUA_PRELUDE}${COLLECT_STATE_LUA}
return state
`,
);

/**
 * Admin unlock: clears every lock, window and backoff level of an account across all addresses,
 * and returns the state it cleared. The listed addresses (at most `addressCap`) are cleared here;
 * pair state of every other address is voided by raising the unlock generation (see
 * addresses.lua.ts), so the script's work is bounded by the cap. Known addresses and the
 * notification throttle are kept, and address (spraying) blocks are not the account's to lift.
 *
 * KEYS: as {@link READ_STATE_SCRIPT}
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}.
 * Returns: the flat state array as it was before the unlock.
 * Invariant: idempotent; after it, no lock of the account refuses a login and every count restarts
 *            at 0; the generation outlives every pair key it voids.
 */
export const UNLOCK_ACCOUNT_SCRIPT = new RedisScript(
  'lockout-unlock',
  `${LOCKOUT_LUA_PRELUDE}${COLLECT_STATE_LUA}
for _, ah in ipairs(members) do
  redis.call('DEL', pairKey(ah, 'pending'), pairKey(ah, 'failed'), pairKey(ah, 'lock'), pairKey(ah, 'level'), pairKey(ah, 'evicted'))
end
redis.call('INCR', KEYS[7])
if redis.call('PTTL', KEYS[7]) < addrTtl then redis.call('PEXPIRE', KEYS[7], addrTtl) end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[8])
redis.call('UNLINK', KEYS[6])
return state
`,
);

/**
 * Reads an address's spraying budget. Writes nothing.
 *
 * KEYS: 1 ip pending, 2 ip failed, 3 ip block
 * ARGV: the common layout of {@link LOCKOUT_LUA_PRELUDE}.
 * Returns: {blockedUntil, failures, pending}
 */
export const READ_ADDRESS_STATE_SCRIPT = new RedisScript(
  'lockout-address-state',
  `${LOCKOUT_LUA_PRELUDE}
local function inWindow(key) return redis.call('ZCOUNT', key, '(' .. (now - ipWindow), '+inf') end
return {lockedUntil(KEYS[3]), inWindow(KEYS[2]), inWindow(KEYS[1])}
`,
);
