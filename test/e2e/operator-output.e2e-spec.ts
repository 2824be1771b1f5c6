import { generateKeyPairSync, randomBytes } from 'node:crypto';

import { Client } from 'pg';
import request from 'supertest';

import { AuditTrail } from '../../apps/auth-service/src/audit/audit-trail';
import {
  bearer,
  captureProcessOutput,
  createTestDatabase,
  eventually,
  gatewaySignedHeaders,
  secretsFoundIn,
  startRedisServer,
  startSentryReceiver,
  startSmtpReceiver,
  startTcpRelay,
  startTestSystem,
  uniqueEmail,
  type CapturedOutput,
  type SentryReceiver,
  type SmtpReceiver,
  type TcpRelay,
  type TestDatabase,
  type TestRedisServer,
  type TestSystem,
} from '../support';

/** A value no app could have made up: found in an output, it came from where the test put it. */
const marked = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

/**
 * What a payments security team checks before go-live: nothing an operator receives (every log
 * line at LOG_LEVEL=verbose, Sentry events, the audit trail, /metrics, lock emails, error bodies)
 * holds a password (a wrong one, the bootstrap admin's), a token, an HMAC secret, key material or a
 * connection password; and emails and full client addresses reach the log, Sentry and the trail
 * only as pseudonyms and networks, as docs/operators.md and docs/lockout.md promise. The apps are
 * driven through wrong passwords, locks, refresh-token reuse, forged tokens, password guessing,
 * admin mistakes, budgets spent, and Redis and Postgres outages.
 */
describe('what operators see holds no secret and no raw personal identifier', () => {
  let output: CapturedOutput;
  let sentry: SentryReceiver;
  let smtp: SmtpReceiver;
  let redis: TestRedisServer;
  let database: TestDatabase;
  let relay: TcpRelay;
  let system: TestSystem;

  const hmacSecrets = {
    PSEUDONYM_SECRET: marked('pseudonym-secret'),
    GATEWAY_SECRET: marked('gateway-secret'),
    REFRESH_TOKEN_SECRET: marked('refresh-secret'),
    FINGERPRINT_SECRET: marked('fingerprint-secret'),
    LOCKOUT_SECRET: marked('lockout-secret'),
    METRICS_TOKEN: marked('metrics-token'),
  };
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signingKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const admin = { email: uniqueEmail('ops'), password: marked('bootstrap admin passphrase') };
  const redisPassword = marked('redis-password');
  const postgresPassword = marked('postgres-password');
  const clientIp = '203.0.113.77';
  const clientIpv6 = '2001:db8:1234:5678:9abc:def0:1357:2468';

  /** Everything secret, wherever it appears; filled in as the system hands out tokens. */
  const credentials: Record<string, string> = {
    ...hmacSecrets,
    ...Object.fromEntries(
      signingKeyPem
        .split('\n')
        .filter((line) => line && !line.startsWith('-----'))
        .map((line, i) => [`signingKeyPemLine${i}`, line]),
    ),
    signingKeyD: String(privateKey.export({ format: 'jwk' }).d),
    bootstrapPassword: admin.password,
    redisPassword,
    postgresPassword,
  };
  /** Personal identifiers the log, Sentry and the trail may hold only as pseudonyms or networks. */
  const personal: Record<string, string> = { adminEmail: admin.email, clientIp, clientIpv6 };
  const errorBodies: string[] = [];
  const adminAnswers: string[] = [];

  beforeAll(async () => {
    output = captureProcessOutput();
    sentry = await startSentryReceiver();
    smtp = await startSmtpReceiver();
    redis = await startRedisServer();
    database = await createTestDatabase('operator_output');
    // auth-service reaches Postgres through a relay the test silences; the password travels in the
    // URL (the test Postgres trusts every local connection, so any password is accepted).
    relay = await startTcpRelay(5432);
    const authDatabase = new URL(database.url);
    authDatabase.port = String(relay.port);
    authDatabase.password = postgresPassword;
    system = await startTestSystem({
      label: 'opout',
      env: {
        ...hmacSecrets,
        LOG_LEVEL: 'verbose',
        SENTRY_DSN: sentry.dsn,
        // The default user of a Redis without requirepass takes any password from AUTH with a user name.
        REDIS_URL: `redis://default:${redisPassword}@127.0.0.1:${redis.port}`,
        REDIS_COMMAND_TIMEOUT_MS: '300',
      },
      gatewayEnv: { TRUSTED_PROXIES: 'loopback', RATE_LIMIT_AUTH_LIMIT: '20' },
      authEnv: {
        JWT_PRIVATE_KEY: signingKeyPem,
        BOOTSTRAP_ADMIN_EMAIL: admin.email,
        BOOTSTRAP_ADMIN_PASSWORD: admin.password,
        SMTP_URL: smtp.url,
        DATABASE_URL: authDatabase.toString(),
        DATABASE_QUERY_TIMEOUT_MS: '1000',
        AUDIT_FLUSH_INTERVAL_MS: '50',
        LOCKOUT_PAIR_MAX_FAILURES: '3',
        PASSWORD_CHANGE_MAX_FAILURES: '2',
        REFRESH_REUSE_GRACE_MS: '0',
        RATE_LIMIT_AUTH_LIMIT: '1000',
        RATE_LIMIT_REFRESH_LIMIT: '1000',
      },
    });
  }, 60_000);

  afterAll(async () => {
    output?.stop();
    await system?.close();
    await relay?.close();
    await database?.drop();
    await redis?.stop();
    await sentry?.close();
    await smtp?.close();
  });

  const api = () => request(system.gatewayUrl);
  const recorded = (res: request.Response): request.Response => {
    if (res.status >= 400) errorBodies.push(`${res.status} ${JSON.stringify(res.headers)} ${res.text}`);
    return res;
  };
  const loginFrom = async (ip: string, email: string, password: string) =>
    recorded(await api().post('/api/auth/login').set('x-forwarded-for', ip).set('user-agent', 'jest-e2e/1.0').send({ email, password }));
  const refreshFrom = async (ip: string, refreshToken: string) =>
    recorded(await api().post('/api/auth/refresh').set('x-forwarded-for', ip).set('user-agent', 'jest-e2e/1.0').send({ refreshToken }));
  /** A wrong password of its own, remembered as a credential. */
  const wrongPassword = (label: string) => (credentials[label] = marked(label));
  const rememberTokens = (label: string, body: { accessToken: string; refreshToken: string }) => {
    credentials[`${label}AccessToken`] = body.accessToken;
    credentials[`${label}AccessSignature`] = body.accessToken.split('.')[2];
    credentials[`${label}RefreshToken`] = body.refreshToken;
    credentials[`${label}RefreshMac`] = body.refreshToken.split('.')[3];
  };

  it('drives the apps through hostile and failure paths, and finds nothing secret in what they emit', async () => {
    // A user, their tokens, and a lock of their email at one address (a lock email, a Sentry warning).
    const email = uniqueEmail('victim');
    personal.userEmail = email;
    credentials.userPassword = marked('user passphrase');
    expect(
      (await api().post('/api/auth/register').set('x-forwarded-for', clientIp).send({ email, password: credentials.userPassword })).status,
    ).toBe(201);
    const first = await loginFrom(clientIp, email, credentials.userPassword);
    expect(first.status).toBe(200);
    rememberTokens('first', first.body);
    for (let i = 0; i < 3; i++) expect((await loginFrom(clientIp, email, wrongPassword(`wrongPassword${i}`))).status).toBe(401);
    expect((await loginFrom(clientIp, email, wrongPassword('wrongWhileLocked'))).status).toBe(429);
    await smtp.waitFor(1);
    // Wrong passwords from an IPv6 address and for an email no account has.
    for (let i = 0; i < 2; i++) expect((await loginFrom(clientIpv6, email, wrongPassword(`wrongIpv6Password${i}`))).status).toBe(401);
    personal.unknownEmail = uniqueEmail('nobody');
    expect((await loginFrom(clientIp, personal.unknownEmail, wrongPassword('unknownEmailPassword'))).status).toBe(401);

    // Refresh: a rotation, then the retired token again (reuse: the session ends, a critical event).
    const rotated = await refreshFrom(clientIp, credentials.firstRefreshToken);
    expect(rotated.status).toBe(200);
    rememberTokens('rotated', rotated.body);
    expect((await refreshFrom(clientIp, credentials.firstRefreshToken)).status).toBe(401);
    expect((await refreshFrom(clientIp, `${credentials.rotatedRefreshToken.slice(0, -4)}AAAA`)).status).toBe(401);
    expect((await refreshFrom(clientIp, credentials.rotatedRefreshToken)).status).toBe(401);

    // Forged and revoked access tokens.
    expect(
      recorded(
        await api()
          .get('/api/me')
          .set(bearer(`${credentials.firstAccessToken.slice(0, -4)}AAAA`)),
      ).status,
    ).toBe(401);
    expect(recorded(await api().get('/api/profile').set(bearer(credentials.firstAccessToken))).status).toBe(401);

    // Guessing the current password in a password change until the session ends, then a weak new one.
    personal.secondIp = '198.51.100.23';
    const second = await loginFrom(personal.secondIp, email, credentials.userPassword);
    expect(second.status).toBe(200);
    rememberTokens('second', second.body);
    const changePassword = async (currentPassword: string, newPassword: string) =>
      recorded(
        await api()
          .post('/api/auth/password')
          .set('x-forwarded-for', personal.secondIp)
          .set(bearer(credentials.secondAccessToken))
          .send({ currentPassword, newPassword }),
      ).status;
    expect(await changePassword(credentials.userPassword, `${email.split('@')[0]} ${wrongPassword('weakNewPassword')}`)).toBe(400);
    // PASSWORD_CHANGE_MAX_FAILURES is 2: the second wrong guess ends the session, the third has no session left.
    for (let i = 0; i < 3; i++) expect(await changePassword(wrongPassword(`wrongCurrentPassword${i}`), marked('new passphrase'))).toBe(401);

    // The admin reads and acts; one of their attempts has the email where the account id goes.
    personal.adminIp = '198.51.100.99';
    const adminLogin = await loginFrom(personal.adminIp, admin.email, admin.password);
    expect(adminLogin.status).toBe(200);
    rememberTokens('admin', adminLogin.body);
    const asAdmin = bearer(credentials.adminAccessToken);
    const { id } = (
      await api()
        .get(`/api/accounts?email=${encodeURIComponent(email)}`)
        .set(asAdmin)
    ).body.items[0] as { id: string };
    await system.auth.get(AuditTrail).flush();
    for (const path of [`/api/accounts/${id}/lockout`, `/api/accounts/${id}/events`]) {
      const res = await api().get(path).set(asAdmin);
      expect(res.status).toBe(200);
      adminAnswers.push(res.text);
    }
    expect(recorded(await api().patch(`/api/accounts/${email}/unlock`).set(asAdmin)).status).toBe(400);
    expect(recorded(await api().patch(`/api/accounts/${id}/unlock`).set(asAdmin)).status).toBe(200);

    // A service called directly, with the gateway's signature on a client address.
    const signed = gatewaySignedHeaders(system.gatewaySecret, 'POST', '/auth/login', clientIp);
    expect(
      recorded(
        await request(system.authUrl)
          .post('/auth/login')
          .set(signed)
          .send({ email, password: wrongPassword('directPassword') }),
      ).status,
    ).toBe(401);

    // The gateway's login budget spent by one address (its denial is logged at debug, and sent to Sentry).
    personal.sprayIp = '192.0.2.45';
    let status = 0;
    for (let i = 0; i < 25 && status !== 429; i++)
      status = (await loginFrom(personal.sprayIp, uniqueEmail('spray'), wrongPassword(`sprayPassword${i}`))).status;
    expect(status).toBe(429);

    // Redis stops: logins, refreshes and token checks fail while it is away.
    await redis.stop();
    expect((await loginFrom(clientIp, email, wrongPassword('redisOutagePassword'))).status).toBe(503);
    expect(recorded(await request(system.authUrl).post('/auth/refresh').send({ refreshToken: credentials.adminRefreshToken })).status).toBe(
      503,
    );
    expect(recorded(await api().get('/api/me').set(asAdmin)).status).toBe(503);
    await redis.restart();
    // This Redis keeps nothing across a restart: the admin's session is gone with it.
    expect(await eventually(async () => (await api().get('/api/me').set(asAdmin)).status === 401, 15_000, 100)).toBe(true);

    // Postgres stops answering auth-service: a login fails, and the trail cannot write a reuse event.
    const third = await loginFrom(clientIp, email, credentials.userPassword);
    expect(third.status).toBe(200);
    rememberTokens('third', third.body);
    relay.silence();
    expect((await loginFrom(personal.adminIp, email, wrongPassword('postgresOutagePassword'))).status).toBe(503);
    const thirdRotated = await refreshFrom(clientIp, credentials.thirdRefreshToken);
    expect(thirdRotated.status).toBe(200);
    rememberTokens('thirdRotated', thirdRotated.body);
    expect((await refreshFrom(clientIp, credentials.thirdRefreshToken)).status).toBe(401);
    expect(await eventually(async () => output.text.includes('audit write failed'), 5000, 50)).toBe(true);
    relay.heal();
    const trail = system.auth.get(AuditTrail);
    const reusesInTrail = async () => (await trail.flush(), (await auditTypes()).filter((type) => type === 'refresh_token_reuse').length);
    expect(await eventually(async () => (await reusesInTrail()) === 2, 15_000, 100)).toBe(true);
    expect(await eventually(async () => sentryHas('refresh_token_reuse'), 5000, 50)).toBe(true);

    const metrics = await Promise.all(
      [system.gatewayUrl, system.authUrl, system.profileUrl].map(
        async (url) => (await request(url).get('/metrics').set(bearer(hmacSecrets.METRICS_TOKEN))).text,
      ),
    );
    const operatorOutputs = {
      log: output.text,
      sentry: sentry.envelopes.map((envelope) => envelope.raw).join('\n'),
      'audit trail': await auditRows(),
      metrics: metrics.join('\n'),
      'error bodies': errorBodies.join('\n'),
    };
    // The scan read what the paths above produced, not empty outputs.
    for (const line of ['"securityEvent":"account_locked"', '"event":"rate_limit_denied"', 'redis unavailable: ', 'audit write failed']) {
      expect({ line, logged: operatorOutputs.log.includes(line) }).toEqual({ line, logged: true });
    }
    for (const event of [
      'refresh_token_reuse',
      'account_locked: pair',
      'password_change_guessing: session_ended',
      'admin_action: unlock',
      'rate_limit_exceeded: auth',
    ]) {
      expect({ event, sent: sentryHas(event) }).toEqual({ event, sent: true });
    }
    expect(operatorOutputs['audit trail']).toContain('"network":"203.0.113.0/24"');
    expect(operatorOutputs['audit trail']).toContain('"network":"2001:db8:1234:0:0:0:0:0/48"');

    expect(secretsFoundIn(operatorOutputs, { ...credentials, ...personal })).toEqual([]);
    // Admins see networks and keyed hashes of addresses, never the addresses.
    expect(secretsFoundIn({ 'admin answers': adminAnswers.join('\n') }, { ...credentials, clientIp, clientIpv6 })).toEqual([]);
    // The lock email names the address and goes to the owner (docs/lockout.md), and holds nothing secret.
    expect(secretsFoundIn({ 'lock email': smtp.messages.map((m) => m.raw).join('\n') }, credentials)).toEqual([]);
  }, 120_000);

  const sentryHas = (event: string): boolean => sentry.envelopes.some((envelope) => envelope.raw.includes(`"message":"${event}"`));

  async function auditRows(): Promise<string> {
    const db = new Client({ connectionString: database.url });
    await db.connect();
    try {
      return JSON.stringify((await db.query('SELECT * FROM security_events ORDER BY id')).rows);
    } finally {
      await db.end();
    }
  }

  async function auditTypes(): Promise<string[]> {
    return (JSON.parse(await auditRows()) as { type: string }[]).map((row) => row.type);
  }
});
