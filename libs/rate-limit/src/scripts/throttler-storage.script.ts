import { REDIS_NOW_LUA, RedisScript, SCRIPT_DEADLINE_LUA } from '@nest-hardening/redis';

/**
 * `ThrottlerStorage.increment()` of `RedisThrottlerStorage`, step for step the stock in-memory
 * `ThrottlerStorageService` of @nestjs/throttler 6.7: a record per key (window end, block end,
 * block flag) shared by the throttler names of that key, and a log of hit expiries per name
 * (a hit counts until its own expiry, so the limit is over a sliding window). Redis's clock
 * (`TIME`) stands in for `Date.now()`; it stands still while the script runs.
 *
 * KEYS[1]: the record (HASH: exp, bexp, blk, seq, hmax); KEYS[2]: this name's hits (ZSET, score =
 *       expiry in ms). Both share a hash tag (`throttlerStorageKeys`).
 * ARGV: ttl (ms), limit, blockDuration (ms; <= 0 selects the stock "without block" branch), the
 *       deadline ({@link SCRIPT_DEADLINE_LUA}).
 * Returns: { totalHits, timeToExpire (s), isBlocked (0/1), timeToBlockExpire (s), now }, computed as
 *       the stock storage computes them (so `timeToBlockExpire` is <= 0 when not blocked); `{'late',
 *       now}`, having changed nothing, after the deadline.
 * Invariant: with blockDuration > 0, a key is refused from its (limit + 1)th live hit until
 *       blockDuration later; hits while blocked are not recorded and never move the block's end;
 *       the first hit after it starts a fresh count. Every key expires once the stock sweep could
 *       have evicted its record: no live hit, no live block, window over.
 */
export const THROTTLER_STORAGE_INCREMENT_SCRIPT = new RedisScript(
  'throttler-storage-increment',
  `
local ttl = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local blockDuration = tonumber(ARGV[3])
${REDIS_NOW_LUA}${SCRIPT_DEADLINE_LUA}
local record = redis.call('HMGET', KEYS[1], 'exp', 'bexp', 'blk', 'seq', 'hmax')
local expiresAt, blockExpiresAt, blocked, seq, hitsUntil
if record[1] then
  expiresAt, blockExpiresAt, blocked = tonumber(record[1]), tonumber(record[2]), tonumber(record[3])
  seq, hitsUntil = tonumber(record[4]), tonumber(record[5])
else
  expiresAt, blockExpiresAt, blocked, seq, hitsUntil = now + ttl, 0, 0, 0, 0
end

-- Stock prune: a hit counts while its expiry is later than now.
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local hits = redis.call('ZCARD', KEYS[2])

local timeToExpire = math.ceil((expiresAt - now) / 1000)
if timeToExpire <= 0 then
  expiresAt = now + ttl
  timeToExpire = math.ceil((expiresAt - now) / 1000)
end

local function fire()
  seq = seq + 1
  hits = hits + 1
  redis.call('ZADD', KEYS[2], now + ttl, seq)
  if now + ttl > hitsUntil then hitsUntil = now + ttl end
end

local result
if blockDuration <= 0 then
  local refused = hits >= limit
  if not refused then fire() end
  local timeToBlockExpire = 0
  if refused then
    if hits > 0 then
      local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
      timeToBlockExpire = math.ceil((tonumber(oldest[2]) - now) / 1000)
    else
      timeToBlockExpire = timeToExpire
    end
  end
  result = { hits + (refused and 1 or 0), timeToExpire, refused and 1 or 0, timeToBlockExpire }
else
  if blocked == 0 then fire() end
  if hits > limit and blocked == 0 then
    blocked = 1
    blockExpiresAt = now + blockDuration
  end
  local timeToBlockExpire = math.ceil((blockExpiresAt - now) / 1000)
  if timeToBlockExpire <= 0 and blocked == 1 then
    blocked = 0
    hits = 0
    redis.call('DEL', KEYS[2])
    fire()
  end
  result = { hits, timeToExpire, blocked, timeToBlockExpire }
end

redis.call('HSET', KEYS[1], 'exp', expiresAt, 'bexp', blockExpiresAt, 'blk', blocked, 'seq', seq, 'hmax', hitsUntil)
local keep = math.max(expiresAt, hitsUntil)
if blocked == 1 and blockExpiresAt > keep then keep = blockExpiresAt end
redis.call('PEXPIREAT', KEYS[1], math.ceil(keep))
if hits > 0 then
  local newest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  redis.call('PEXPIREAT', KEYS[2], math.ceil(tonumber(newest[2])))
end
result[#result + 1] = now
return result
`,
);
