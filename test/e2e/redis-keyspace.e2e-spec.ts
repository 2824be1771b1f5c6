import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import request from 'supertest';

import {
  bearer,
  login,
  registerAndLogin,
  sessionIdOf,
  startSmtpReceiver,
  startTestSystem,
  TEST_REDIS_URL,
  uniqueEmail,
  type SmtpReceiver,
  type TestSystem,
} from '../support';

/**
 * Redis runs with `maxmemory-policy noeviction` (docs/capacity.md), so every key the system writes
 * must expire or be documented as kept, no longer than docs/capacity.md says, and nothing a client
 * sends may make a unit of state cost more than its figure there. The whole system, real Redis and
 * Postgres, default lifetimes (only the counts that lock are lowered, so a few requests reach them).
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** An account's list of recent addresses: the email window (1 h) + the longest lock + its backoff memory. */
const ADDRESS_LIST_MS = HOUR + DAY + DAY;

interface KeyLifetime {
  /** The key without the global prefix. */
  key: RegExp;
  /** Longest lifetime with the default settings; `none`: documented as kept. */
  maxMs: number | 'none';
  /** How docs/capacity.md's "How long keys live" names it. */
  documentedAs: string;
  /** Lives only while an attempt is being verified, a secret move is halfway, or past the address cap: the flows may leave none. */
  transient?: true;
}

const LIFETIMES: KeyLifetime[] = [
  { key: /^\{u:[^}]+\}:s:[\w-]+$/, maxMs: 7 * DAY, documentedAs: '`{u:<uid>}:s:<sid>`' },
  { key: /^\{u:[^}]+\}:sessions$/, maxMs: 30 * DAY, documentedAs: '`{u:<uid>}:sessions`' },
  { key: /^\{u:[^}]+\}:deny:[\w-]+$/, maxMs: 15 * MINUTE, documentedAs: '`{u:<uid>}:deny:<jti>`' },
  { key: /^\{u:[^}]+\}:authv$/, maxMs: 'none', documentedAs: '`{u:<uid>}:authv`' },
  { key: /^\{rl:[^}]+\}:[\w~]+$/, maxMs: 15 * MINUTE, documentedAs: '`{rl:<tracker>}:<policy>`' },
  { key: /^\{rl:[^}]+\}:[\w~]+:reported$/, maxMs: 15 * MINUTE, documentedAs: '`{rl:<tracker>}:<policy>:reported`' },
  { key: /^lockout:\{e:[\w-]+\}:pair:[\w-]+:(pending|failed)$/, maxMs: 15 * MINUTE, documentedAs: '`lockout:{e:<eh>}:pair:<ah>:failed`' },
  { key: /^lockout:\{e:[\w-]+\}:pair:[\w-]+:lock$/, maxMs: DAY, documentedAs: '`lockout:{e:<eh>}:pair:<ah>:lock`' },
  { key: /^lockout:\{e:[\w-]+\}:pair:[\w-]+:level$/, maxMs: 2 * DAY, documentedAs: '`lockout:{e:<eh>}:pair:<ah>:level`' },
  {
    key: /^lockout:\{e:[\w-]+\}:pair:[\w-]+:evicted$/,
    maxMs: ADDRESS_LIST_MS,
    documentedAs: '`lockout:{e:<eh>}:pair:<ah>:evicted`',
    transient: true,
  },
  { key: /^lockout:\{e:[\w-]+\}:pending$/, maxMs: HOUR, documentedAs: '`lockout:{e:<eh>}:pending`', transient: true },
  { key: /^lockout:\{e:[\w-]+\}:streak$/, maxMs: 90 * DAY, documentedAs: '`lockout:{e:<eh>}:streak`' },
  { key: /^lockout:\{e:[\w-]+\}:lock$/, maxMs: 90 * DAY, documentedAs: '`lockout:{e:<eh>}:lock`' },
  { key: /^lockout:\{e:[\w-]+\}:seen$/, maxMs: ADDRESS_LIST_MS, documentedAs: '`lockout:{e:<eh>}:seen`' },
  { key: /^lockout:\{e:[\w-]+\}:unlocks$/, maxMs: ADDRESS_LIST_MS, documentedAs: '`lockout:{e:<eh>}:unlocks`' },
  { key: /^lockout:\{e:[\w-]+\}:known$/, maxMs: 30 * DAY, documentedAs: '`lockout:{e:<eh>}:known`' },
  { key: /^lockout:\{e:[\w-]+\}:notified$/, maxMs: HOUR, documentedAs: '`lockout:{e:<eh>}:notified`' },
  { key: /^lockout:\{e:[\w-]+\}:streak:moving$/, maxMs: 90 * DAY, documentedAs: '`lockout:{e:<eh>}:streak:moving`', transient: true },
  { key: /^lockout:\{e:[\w-]+\}:moved:[\w-]+$/, maxMs: 90 * DAY, documentedAs: '`lockout:{e:<eh>}:moved:<id>`' },
  { key: /^lockout:\{ip:[\w-]+\}:(pending|failed|block)$/, maxMs: HOUR, documentedAs: '`lockout:{ip:<ah>}:failed`' },
];

const CAPACITY_DOC = readFileSync(join(__dirname, '../../docs/capacity.md'), 'utf8');

function docSection(title: string): string {
  const start = CAPACITY_DOC.indexOf(`## ${title}`);
  const end = CAPACITY_DOC.indexOf('\n## ', start + 1);
  return start < 0 ? '' : CAPACITY_DOC.slice(start, end < 0 ? undefined : end);
}

interface StoredKey {
  key: string;
  pttl: number;
  bytes: number;
}

const secret = (name: string) => `${name} for the redis-keyspace e2e test`;
const WRONG = 'not the password at all';

describe('Redis keyspace: every key expires as docs/capacity.md says', () => {
  let system: TestSystem;
  let smtp: SmtpReceiver;
  const raw = new Redis(TEST_REDIS_URL);
  const admin = { email: 'keyspace-admin@example.com', password: 'bootstrap admin password' };

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    system = await startTestSystem({
      label: 'keyspace',
      gatewayEnv: {
        // The test is the load balancer: X-Forwarded-For chooses each client's address, IPv4 and IPv6.
        TRUSTED_PROXIES: 'loopback',
        RATE_LIMIT_AUTH_LIMIT: '1000',
        RATE_LIMIT_GENERAL_LIMIT: '10000',
        RATE_LIMIT_REFRESH_LIMIT: '3',
      },
      authEnv: {
        BOOTSTRAP_ADMIN_EMAIL: admin.email,
        BOOTSTRAP_ADMIN_PASSWORD: admin.password,
        SMTP_URL: smtp.url,
        LOCKOUT_SECRET: secret('lockout v1'),
        REFRESH_TOKEN_SECRET: secret('refresh v1'),
        FINGERPRINT_SECRET: secret('fingerprint v1'),
        // Counts only: every window, lock and lifetime keeps its default.
        LOCKOUT_EMAIL_MAX_FAILURES: '8',
        LOCKOUT_IP_MAX_FAILURES: '10',
        RATE_LIMIT_AUTH_LIMIT: '1000',
        RATE_LIMIT_REFRESH_LIMIT: '1000',
      },
    });
  });

  afterAll(async () => {
    await system?.close();
    await smtp?.close();
    raw.disconnect();
  });

  const api = () => request(system.gatewayUrl);
  const from = (ip: string) => ({ 'x-forwarded-for': ip, 'user-agent': 'jest-e2e/1.0' });
  const failLogin = async (email: string, ip: string) =>
    expect((await api().post('/api/auth/login').set(from(ip)).send({ email, password: WRONG })).status).toBe(401);

  /** Every key under the system's prefix, without the prefix, with its PTTL and MEMORY USAGE. */
  async function storedKeys(): Promise<StoredKey[]> {
    const keys: StoredKey[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await raw.scan(cursor, 'MATCH', `${system.keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      for (const key of batch) {
        const [pttl, bytes] = await Promise.all([raw.pttl(key), raw.memory('USAGE', key, 'SAMPLES', 0)]);
        // A key that expired between SCAN and PTTL is gone: nothing to check.
        if (pttl !== -2) keys.push({ key: key.slice(system.keyPrefix.length), pttl, bytes: Number(bytes) });
      }
    } while (cursor !== '0');
    return keys;
  }

  it('leaves only keys that expire within their documented lifetime, after every route and flow', async () => {
    // Sessions: register, log in from IPv4 and IPv6, refresh, list, end one, end the others, logout.
    const user = await registerAndLogin(system.gatewayUrl, { forwardedFor: '198.51.100.7' });
    const fromV6 = await login(system.gatewayUrl, user.email, user.password, { forwardedFor: '2001:db8:1:2::5' });
    const third = await login(system.gatewayUrl, user.email, user.password, { forwardedFor: '198.51.100.8' });
    const refreshed = await api().post('/api/auth/refresh').set(from('198.51.100.7')).send({ refreshToken: user.refreshToken });
    expect(refreshed.status).toBe(200);
    const token = refreshed.body.accessToken as string;
    expect((await api().get('/api/me/sessions').set(from('198.51.100.7')).set(bearer(token))).status).toBe(200);
    const endOne = await api()
      .delete(`/api/me/sessions/${sessionIdOf(fromV6.accessToken)}`)
      .set(from('198.51.100.7'))
      .set(bearer(token));
    expect(endOne.status).toBe(204);
    expect((await api().delete('/api/me/sessions').set(from('198.51.100.7')).set(bearer(token))).status).toBe(204);
    expect((await api().post('/api/auth/refresh').set(from('198.51.100.8')).send({ refreshToken: third.refreshToken })).status).toBe(401);

    // A password change, after one wrong current password; then logout.
    const password = 'a brand new password for the keyspace test';
    const change = (currentPassword: string) =>
      api().post('/api/auth/password').set(from('198.51.100.7')).set(bearer(token)).send({ currentPassword, newPassword: password });
    expect((await change(WRONG)).status).toBe(401);
    expect((await change(user.password)).status).toBe(204);
    expect((await api().post('/api/auth/logout').set(from('198.51.100.7')).set(bearer(token))).status).toBe(204);

    // Lockout: a pair lock (5 failures from one address), then the account ceiling (8) from IPv6 networks,
    // which also sends the owner a lock alert.
    const locked = await registerAndLogin(system.gatewayUrl, { forwardedFor: '198.51.100.9' });
    for (let i = 0; i < 5; i++) await failLogin(locked.email, '203.0.113.9');
    for (let i = 0; i < 3; i++) await failLogin(locked.email, `2001:db8:9:${i}::1`);
    expect((await api().post('/api/auth/login').set(from('2001:db8:9:7::1')).send({ email: locked.email, password: WRONG })).status).toBe(
      429,
    );
    await smtp.waitFor(1);
    // Unknown emails are counted like real ones; an address spraying ten of them is blocked.
    await failLogin('nobody-here@example.com', '203.0.113.10');
    for (let i = 0; i < 10; i++) await failLogin(uniqueEmail('spray'), '192.0.2.50');
    // Forged refresh tokens, until the refresh budget refuses (its denial is reported once per window).
    for (let i = 0; i < 5; i++) {
      await api()
        .post('/api/auth/refresh')
        .set(from('2001:db8:66::1'))
        .send({ refreshToken: `${user.id}.${'A'.repeat(22)}.${i}.${'A'.repeat(43)}` });
    }

    // Admin routes: find, read lock state, unlock, change role and status, end every session.
    const root = await login(system.gatewayUrl, admin.email, admin.password, { forwardedFor: '192.0.2.1' });
    const asAdmin = (req: request.Test) => req.set(from('192.0.2.1')).set(bearer(root.accessToken));
    const unlocked = await registerAndLogin(system.gatewayUrl, { forwardedFor: '198.51.100.10' });
    await failLogin(unlocked.email, '203.0.113.11');
    expect((await asAdmin(api().get(`/api/accounts?email=${encodeURIComponent(unlocked.email)}`))).status).toBe(200);
    expect((await asAdmin(api().get(`/api/accounts/${unlocked.id}/lockout`))).status).toBe(200);
    expect((await asAdmin(api().patch(`/api/accounts/${unlocked.id}/unlock`))).status).toBe(200);
    const demoted = await registerAndLogin(system.gatewayUrl, { forwardedFor: '198.51.100.11' });
    expect((await asAdmin(api().patch(`/api/accounts/${demoted.id}/role`)).send({ role: 'admin' })).status).toBe(200);
    expect((await asAdmin(api().patch(`/api/accounts/${demoted.id}/status`)).send({ status: 'disabled' })).status).toBe(200);
    expect((await asAdmin(api().delete(`/api/accounts/${unlocked.id}/sessions`))).status).toBe(204);

    // Secret rotation: state moves to the new lockout names; sessions refresh under the previous secrets.
    await system.restartAuthService(0, {
      LOCKOUT_SECRET: secret('lockout v2'),
      LOCKOUT_SECRET_PREVIOUS: secret('lockout v1'),
      REFRESH_TOKEN_SECRET: secret('refresh v2'),
      REFRESH_TOKEN_SECRET_PREVIOUS: secret('refresh v1'),
      FINGERPRINT_SECRET: secret('fingerprint v2'),
      FINGERPRINT_SECRET_PREVIOUS: secret('fingerprint v1'),
    });
    await failLogin('nobody-here@example.com', '203.0.113.10');
    await failLogin(unlocked.email, '203.0.113.11');
    expect((await api().post('/api/auth/refresh').set(from('198.51.100.9')).send({ refreshToken: locked.refreshToken })).status).toBe(200);

    const keys = await storedKeys();
    const lifetimes = docSection('How long keys live');
    const problems: string[] = [];
    for (const { key, pttl } of keys) {
      const rule = LIFETIMES.find((r) => r.key.test(key));
      if (!rule) problems.push(`${key}: no documented lifetime`);
      else if (!lifetimes.includes(rule.documentedAs)) problems.push(`${key}: docs/capacity.md does not list ${rule.documentedAs}`);
      else if (rule.maxMs === 'none' ? pttl !== -1 : pttl <= 0 || pttl > rule.maxMs) problems.push(`${key}: PTTL ${pttl}`);
    }
    expect(problems).toEqual([]);
    // Nothing outlives its purpose: of the user who logged out of their last session, only the version and the denied token.
    const ofUser = keys.filter(({ key }) => key.startsWith(`{u:${user.id}}`)).map(({ key }) => key.replace(/:deny:.*$/, ':deny:<jti>'));
    expect(ofUser.sort()).toEqual([`{u:${user.id}}:authv`, `{u:${user.id}}:deny:<jti>`]);
    // The flows reached every kind of key that outlives a request (so the check above saw each).
    const met = new Set(keys.map(({ key }) => LIFETIMES.find((r) => r.key.test(key))));
    expect(LIFETIMES.filter((r) => !r.transient && !met.has(r)).map((r) => r.documentedAs)).toEqual([]);
  });

  it('leaves, per failed login with a new email, no more for 90 days than docs/capacity.md says', async () => {
    // What outlives every window, lock and address list: an attacker inventing emails accumulates it.
    const lastingBytes = async () => (await storedKeys()).filter((k) => k.pttl > 3 * DAY).reduce((sum, k) => sum + k.bytes, 0);
    const before = await lastingBytes();
    const LOGINS = 20;
    for (let i = 0; i < LOGINS; i++) await failLogin(uniqueEmail('fresh'), `2001:db8:77:${i}::1`);
    const perLogin = ((await lastingBytes()) - before) / LOGINS;

    const documented = Number(/leaves \*\*(\d+) bytes for\s+90 days\*\*/.exec(docSection('What an attack leaves behind'))?.[1]);
    expect(perLogin).toBeGreaterThan(0);
    expect(perLogin).toBeLessThanOrEqual(documented);
  });

  it('keeps a session within its documented bytes whatever user agent the client sends', async () => {
    const user = await registerAndLogin(system.gatewayUrl, { forwardedFor: '198.51.100.20' });
    const hostile = await login(system.gatewayUrl, user.email, user.password, {
      forwardedFor: '198.51.100.20',
      // Bytes above 0x7f arrive as Latin-1 characters: two UTF-8 bytes each in Redis.
      userAgent: 'é'.repeat(300),
    });
    const sessionKey = (accessToken: string) => `${system.keyPrefix}{u:${user.id}}:s:${sessionIdOf(accessToken)}`;
    const [plainBytes, hostileBytes] = await Promise.all(
      [user.accessToken, hostile.accessToken].map(async (t) => Number(await raw.memory('USAGE', sessionKey(t), 'SAMPLES', 0))),
    );

    expect(await raw.object('ENCODING', sessionKey(hostile.accessToken))).toBe('listpack');
    expect(hostileBytes).toBeLessThanOrEqual(plainBytes + 64);
    const documented = Number(/\| session \(120-char user agent\) \| (\d+) \|/.exec(CAPACITY_DOC)?.[1]);
    expect(hostileBytes).toBeLessThan(documented);
  });
});
