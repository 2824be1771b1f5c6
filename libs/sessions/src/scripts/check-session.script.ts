import { RedisScript } from '@nest-hardening/redis';

/**
 * The per-request revocation check: one round trip, one command.
 *
 * KEYS[1] session hash        {u:<uid>}:s:<sid>
 * KEYS[2] denylisted token    {u:<uid>}:deny:<jti>
 * Returns 1 when the session exists and the token is not denylisted, else 0.
 */
export const CHECK_SESSION_SCRIPT = new RedisScript(
  'check-session',
  `
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('EXISTS', KEYS[2]) == 0 then return 1 end
return 0
`,
);
