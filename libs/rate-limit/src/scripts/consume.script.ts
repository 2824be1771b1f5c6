import { REDIS_NOW_LUA, RedisScript, SCRIPT_DEADLINE_LUA } from '@nest-hardening/redis';

/**
 * Checks and charges the fixed-window policies of one or more requests in one atomic step. The
 * requests of a call are decided one after the other, each on its own (all-or-nothing per request),
 * exactly as if each had made its own call in that order: batching them only saves round trips.
 *
 * The requests of a call mostly spend from the same few windows (one client's burst, or a handful
 * of clients). So each window is read once, the requests are decided against its count in Lua
 * memory, and each window is written once at the end: about three commands per window and call,
 * not three per policy and request. The script is atomic, so nothing can change a counter between
 * the read and the write, and Redis's clock stands still while it runs, so one PTTL holds for the
 * whole call.
 *
 * KEYS: pairs (window counter, "denial reported" marker), one pair per distinct window in the call
 *       (all keys of one call must share a cluster slot: they are hash-tagged per tracker).
 * ARGV[1]: the call's numbers, separated by spaces: the number of charge kinds k; then k quadruples
 *       (pair index j: the window is KEYS[2j-1], KEYS[2j]; limit; window length in ms; block length
 *       in ms, 0 for none); then, to the
 *       end, each request in order: cost (hits it spends, >= 1), number of policies n, then n
 *       charge-kind indexes (1-based). One argument, not one per number: ioredis flattens, converts
 *       and frames each argument it sends, so one string is cheaper on the hot path.
 * ARGV[2]: the deadline, in Redis milliseconds (`ScriptDeadlines`), or 0 for none. A call Redis runs
 *       after it changes nothing and returns `{'late', now}`: its caller has stopped waiting (the
 *       command timeout answered it), so charging it would spend a budget on a request that was
 *       already answered without Redis.
 * Returns: for each pair, in KEYS order: hits before the call, ms until the window resets (meaningless
 *       when hits are 0: the window starts with its first admitted hit), 1 when this call set the
 *       "denial reported" marker (its first denial of the window, or the start of a block), else 0,
 *       and the ms left of a block in force when the call began (0: none); then one string with a
 *       verdict per request, "1" admitted or "0" refused; then Redis's time (ms). The caller replays
 *       the counts from these: they follow from the verdicts alone (`ConsumeBatcher`).
 * Invariant: all-or-nothing per request. If any of its policies would exceed its limit, no counter
 *       changes, so a blocked client cannot keep extending its own count; otherwise every counter
 *       grows by cost. A window starts with the first admitted hit and ends PEXPIRE ms later (fixed
 *       window). The marker is set once per window (SET NX, expiring with the window), so a flooding
 *       tracker is reported once per window across all processes. With a block length, the denial
 *       that exceeds the limit starts a block instead: the counter is deleted and the marker set for
 *       the block's length; while the marker lives, every request spending that window is refused
 *       and nothing moves the block's end; after it the window starts afresh.
 */
export const CONSUME_RATE_LIMIT_SCRIPT = new RedisScript(
  'rate-limit-consume',
  `${REDIS_NOW_LUA}${SCRIPT_DEADLINE_LUA}
local arg = {}
for number in string.gmatch(ARGV[1], '%S+') do arg[#arg + 1] = tonumber(number) end

local kinds = arg[1]
local kindPair, kindLimit, kindWindow, kindBlock = {}, {}, {}, {}
for k = 1, kinds do
  kindPair[k] = arg[4 * k - 2]
  kindLimit[k] = arg[4 * k - 1]
  kindWindow[k] = arg[4 * k]
  kindBlock[k] = arg[4 * k + 1]
end

-- Per pair: hits before the call, hits now, ms until reset, hits spent in this call, the window
-- length of a window this call starts, the ttl of the denial marker to set, ms left of the block
-- in force when the call began and now, the length of a block this call starts.
local base, count, ttl, spent, starts, mark = {}, {}, {}, {}, {}, {}
local blockedAtStart, blocked, blocks = {}, {}, {}
local function load(p, window, block)
  local key = KEYS[2 * p - 1]
  local hits = tonumber(redis.call('GET', key) or '0')
  local left = 0
  if hits > 0 then
    left = redis.call('PTTL', key)
    if left < 0 then
      -- A counter without expiry would block forever; give it a window again.
      redis.call('PEXPIRE', key, window)
      left = window
    end
  end
  base[p], count[p], ttl[p], spent[p] = hits, hits, left, 0
  local blockLeft = 0
  if block > 0 then
    blockLeft = redis.call('PTTL', KEYS[2 * p])
    if blockLeft == -1 then
      -- A block without expiry would block forever; give it its length again.
      redis.call('PEXPIRE', KEYS[2 * p], block)
      blockLeft = block
    elseif blockLeft < 0 then
      blockLeft = 0
    end
  end
  blockedAtStart[p], blocked[p] = blockLeft, blockLeft
end

local verdicts = {}
local a = 4 * kinds + 2
while a <= #arg do
  local cost = arg[a]
  local n = arg[a + 1]
  local admitted = 1
  local blocking = {}
  for i = a + 2, a + 1 + n do
    local k = arg[i]
    local p = kindPair[k]
    if base[p] == nil then load(p, kindWindow[k], kindBlock[k]) end
    if blocked[p] > 0 then
      admitted = 0
    elseif count[p] + cost > kindLimit[k] then
      admitted = 0
      if kindBlock[k] > 0 then
        blocking[#blocking + 1] = k
      elseif mark[p] == nil then
        if count[p] > 0 then mark[p] = ttl[p] else mark[p] = kindWindow[k] end
      end
    end
  end
  -- Blocks start once the request is decided, so each of its policies is judged on the same state.
  for _, k in ipairs(blocking) do
    local p = kindPair[k]
    blocked[p], blocks[p], count[p] = kindBlock[k], kindBlock[k], 0
  end
  if admitted == 1 then
    for i = a + 2, a + 1 + n do
      local k = arg[i]
      local p = kindPair[k]
      if count[p] == 0 then
        ttl[p] = kindWindow[k]
        starts[p] = kindWindow[k]
      end
      count[p] = count[p] + cost
      spent[p] = spent[p] + cost
    end
  end
  verdicts[#verdicts + 1] = admitted
  a = a + 2 + n
end

local result = {}
for p = 1, #KEYS / 2 do
  local marked = 0
  if blocks[p] ~= nil then
    redis.call('DEL', KEYS[2 * p - 1])
    redis.call('SET', KEYS[2 * p], '1', 'PX', blocks[p])
    marked = 1
  elseif base[p] ~= nil then
    if spent[p] > 0 then
      redis.call('INCRBY', KEYS[2 * p - 1], spent[p])
      if starts[p] ~= nil then redis.call('PEXPIRE', KEYS[2 * p - 1], starts[p]) end
    end
    if mark[p] ~= nil and redis.call('SET', KEYS[2 * p], '1', 'NX', 'PX', math.max(1, mark[p])) then marked = 1 end
  end
  result[#result + 1] = base[p] or 0
  result[#result + 1] = ttl[p] or 0
  result[#result + 1] = marked
  result[#result + 1] = blockedAtStart[p] or 0
end
result[#result + 1] = table.concat(verdicts)
result[#result + 1] = now
return result
`,
);
