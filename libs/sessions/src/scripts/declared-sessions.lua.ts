/**
 * Lua prelude of the scripts that touch every session of a user. On a Redis Cluster a script may
 * touch only the keys it declares: while a user's slot is being moved, an undeclared session key
 * fails the script ("non local key") or is silently not found on the node the index moved to. So
 * the caller reads the index first and passes every session hash from KEYS[first] on, and the
 * script answers -1 (read the index again) when the index holds a session it was not given
 * (advance-auth-version does its part first and answers that it is incomplete).
 *
 * Defines `declared` (sid -> key) and `undeclared()`, true when the index names a session not in it.
 */
export function declaredSessionsLua(first: number): string {
  return `
local declared = {}
-- KEYS[1] is '<prefix>{u:<uid>}:sessions' and a session hash '<prefix>{u:<uid>}:s:<sid>' (the prefix may
-- itself contain ':s:'): the sid starts where 'sessions' would, 2 characters on.
local sidFrom = #KEYS[1] - #'sessions' + #'s:' + 1
for i = ${first}, #KEYS do declared[string.sub(KEYS[i], sidFrom)] = KEYS[i] end
local function undeclared()
  for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if not declared[member] then return true end
  end
  return false
end
`;
}
