/**
 * Lua that sets `now`: Redis's time in milliseconds since the epoch. Scripts take their time from
 * Redis, not from the callers, so app instances with skewed clocks share one timeline; it stands
 * still while a script runs.
 */
export const REDIS_NOW_LUA = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;
