import { Registry } from 'prom-client';
import request from 'supertest';

import { bearer, heapUsedAfterGc, registerAndLogin, startTestSystem, uniqueEmail, type TestSystem } from '../../../test/support';

/**
 * While Postgres does not take the audit trail's writes, up to AUDIT_BUFFER_MAX events wait in
 * memory (10,000 by default). That is a bound on memory only if no client can make one waiting event
 * large: an event keeps an email of at most 254 characters, a user agent of at most 512 and ids,
 * whatever the request carried around them.
 */
describe('events waiting in the audit buffer', () => {
  let system: TestSystem;
  const EVENTS = 150;
  /** Requests sent before measuring, so what the first requests set up once (compiled code, pools) is not counted. */
  const WARM_UP = 30;
  /** Far above what an event of the sizes above costs, far below the padding the requests carry. */
  const MAX_BYTES_PER_EVENT = 8 * 1024;
  const padding = ' '.repeat(90_000);
  const longAgent = `Mozilla/5.0 (X11; Linux x86_64) ${'x'.repeat(15_000)}`;

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'auditmem',
      gatewayEnv: { TRUSTED_PROXIES: 'loopback', RATE_LIMIT_AUTH_LIMIT: '10000', RATE_LIMIT_GENERAL_LIMIT: '100000' },
      // Nothing is written during the test: every event waits, as while Postgres is away. The test
      // is also a load balancer in front of auth-service itself.
      authEnv: { AUDIT_FLUSH_INTERVAL_MS: '600000', TRUSTED_PROXIES: 'loopback', RATE_LIMIT_AUTH_LIMIT: '10000' },
    });
  });

  afterAll(() => system?.close());

  const api = () => request(system.gatewayUrl);

  async function buffered(): Promise<number> {
    const metric = await system.auth.get(Registry).getSingleMetricAsString('audit_events_buffered');
    return Number(/^audit_events_buffered (\d+)$/m.exec(metric)?.[1]);
  }

  /** Heap kept per event that `send` leaves waiting. */
  async function bytesPerWaitingEvent(send: (n: number) => Promise<void>): Promise<number> {
    for (let n = 0; n < WARM_UP; n++) await send(n);
    const [heapBefore, eventsBefore] = [heapUsedAfterGc(), await buffered()];
    for (let n = WARM_UP; n < WARM_UP + EVENTS; n++) await send(n);
    const [heapAfter, eventsAfter] = [heapUsedAfterGc(), await buffered()];
    expect(eventsAfter - eventsBefore).toBe(EVENTS);
    return (heapAfter - heapBefore) / EVENTS;
  }

  it('keeps of a failed login no more than its email and user agent, however the request pads them', async () => {
    const perEvent = await bytesPerWaitingEvent(async (n) => {
      const res = await api()
        .post('/api/auth/login')
        .set('x-forwarded-for', `2001:db8:a0:${n}::1`)
        .set('user-agent', longAgent)
        // A valid address: the email is trimmed before it is judged.
        .send({ email: `${padding}${uniqueEmail('padded')}`, password: 'not the password at all' });
      expect(res.status).toBe(401);
    });
    expect(perEvent).toBeLessThan(MAX_BYTES_PER_EVENT);
  });

  it('keeps of a failed login no more than its address, however long the X-Forwarded-For a trusted proxy passed on', async () => {
    // The proxy appends the address it saw to whatever the client sent. Addresses of 13 characters or
    // more: V8 copies shorter pieces of a string rather than pointing into it.
    const sentByClient = '192.0.2.1, '.repeat(1000);
    const perEvent = await bytesPerWaitingEvent(async (n) => {
      const res = await request(system.authUrl)
        .post('/auth/login')
        .set('x-forwarded-for', `${sentByClient}198.51.${100 + Math.floor(n / 100)}.${100 + (n % 100)}`)
        .send({ email: uniqueEmail('forwarded'), password: 'not the password at all' });
      expect(res.status).toBe(401);
    });
    expect(perEvent).toBeLessThan(MAX_BYTES_PER_EVENT);
  });

  it('keeps of a refused admin action no more than an id, however long the path segment it names', async () => {
    const intruder = await registerAndLogin(system.gatewayUrl, { forwardedFor: '198.51.100.60' });
    const perEvent = await bytesPerWaitingEvent(async (n) => {
      const res = await api()
        .patch(`/api/accounts/${n}${'a'.repeat(15_000)}/role`)
        .set('x-forwarded-for', '198.51.100.60')
        .set(bearer(intruder.accessToken))
        .send({ role: 'admin' });
      expect(res.status).toBe(403);
    });
    expect(perEvent).toBeLessThan(MAX_BYTES_PER_EVENT);
  });
});
