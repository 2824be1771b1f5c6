import type { SessionsModuleOptions } from '../../src/sessions.module-definition';

/** SessionsModule options for an app a spec builds: short lifetimes, a cap of 10, strict user-agent fingerprint. */
export const SESSIONS_TEST_OPTIONS: SessionsModuleOptions = {
  refreshTokenSecret: 'a refresh token secret of 32+ characters',
  fingerprintSecret: 'a fingerprint secret of 32+ characters!',
  idleTtlMs: 60_000,
  absoluteTtlMs: 120_000,
  reuseGraceMs: 0,
  maxSessionsPerUser: 10,
  fingerprint: { userAgent: 'strict', ip: 'log', ipv4PrefixBits: 24, ipv6PrefixBits: 64 },
};
