import { REDIS_NOW_LUA } from '@nest-hardening/redis';

/**
 * Lua shared by every lockout script: the clock, the limits and small window helpers.
 *
 * ARGV layout common to all lockout scripts (see {@link lockoutScriptArgs}):
 *   1 reservation id, 2 address hash, 3 pairMax, 4 pairWindowMs, 5 baseLockMs, 6 maxLockMs,
 *   7 backoffResetMs, 8 emailMax, 9 emailWindowMs, 10 emailLockMs, 11 ipMax, 12 ipWindowMs,
 *   13 ipBlockMs, 14 knownAddressTtlMs, 15 addressSetTtlMs, 16 addressCap
 *
 * Time comes from Redis ({@link REDIS_NOW_LUA}). Lock keys store their end (epoch ms) as value, so
 * reads report it exactly.
 */
export const LOCKOUT_LUA_PRELUDE = `${REDIS_NOW_LUA}
local rid, addr = ARGV[1], ARGV[2]
local pairMax, pairWindow = tonumber(ARGV[3]), tonumber(ARGV[4])
local baseLock, maxLock, backoffReset = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local emailMax, emailWindow, emailLock = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local ipMax, ipWindow, ipBlock = tonumber(ARGV[11]), tonumber(ARGV[12]), tonumber(ARGV[13])
local knownTtl, addrTtl, addrCap = tonumber(ARGV[14]), tonumber(ARGV[15]), tonumber(ARGV[16])

-- Duration of the pair lock at a backoff level (1 = first lock); the exponent is capped so it stays finite.
local function lockFor(level)
  return math.floor(math.min(baseLock * 2 ^ math.min(level - 1, 40), maxLock))
end

local function remaining(key)
  local ms = redis.call('PTTL', key)
  if ms > 0 then return ms end
  return 0
end

local function lockedUntil(key)
  local value = redis.call('GET', key)
  if value then return tonumber(value) end
  return 0
end
`;

/** The ARGV vector every lockout script receives, in the order documented above. */
export interface LockoutScriptLimits {
  pairMaxFailures: number;
  pairWindowMs: number;
  baseLockMs: number;
  maxLockMs: number;
  backoffResetMs: number;
  emailMaxFailures: number;
  emailWindowMs: number;
  emailLockMs: number;
  ipMaxFailures: number;
  ipWindowMs: number;
  ipBlockMs: number;
  knownAddressTtlMs: number;
  addressCap: number;
}

/** How long an address stays in an account's list after its last attempt: it must outlive every pair key it points to (the longest lock plus its backoff memory). */
export function lockoutAddressListTtlMs(limits: LockoutScriptLimits): number {
  return Math.max(limits.pairWindowMs, limits.emailWindowMs) + limits.maxLockMs + limits.backoffResetMs;
}

/**
 * The 16 arguments every lockout script reads (see the prelude). The state script takes its
 * addresses from ARGV 17 on, the unlock script from 18 (after its mode): keep the counts in step
 * with collectStateLua.
 */
export function lockoutScriptArgs(limits: LockoutScriptLimits, reservationId: string, addressHash: string): string[] {
  const addressSetTtl = lockoutAddressListTtlMs(limits);
  return [
    reservationId,
    addressHash,
    limits.pairMaxFailures,
    limits.pairWindowMs,
    limits.baseLockMs,
    limits.maxLockMs,
    limits.backoffResetMs,
    limits.emailMaxFailures,
    limits.emailWindowMs,
    limits.emailLockMs,
    limits.ipMaxFailures,
    limits.ipWindowMs,
    limits.ipBlockMs,
    limits.knownAddressTtlMs,
    addressSetTtl,
    limits.addressCap,
  ].map((value) => String(value));
}
