import { createRedisClient, type RedisClient, type RedisModuleOptions } from '@nest-hardening/redis';
import { startTcpRelay, TEST_REDIS_URL, uniqueKeyPrefix, type TcpRelay } from '@nest-hardening/testing';

import { RedisSessionStore } from './redis-session.store';
import { sessionsKeys } from './sessions.keys';

/**
 * The revocation feed across a reconnect, through a relay to the real Redis that can cut the
 * subscriber's connection and hold back its SUBSCRIBE. The feed may be trusted (answers cached)
 * only while announcements cannot be missed.
 */
describe('RedisSessionStore revocation feed across a reconnect', () => {
  let relay: TcpRelay;
  let options: RedisModuleOptions;
  let publisher: RedisClient;
  let subscriber: RedisClient;
  /** What this test's listener heard (a listener of an earlier test may still hear its own close). */
  let events: string[] = [];

  const until = async (what: string, check: () => boolean) => {
    for (const deadline = Date.now() + 5000; !check(); await new Promise((r) => setTimeout(r, 10))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${events.join(', ')}`);
    }
  };
  /** A SUBSCRIBE command in RESP (the client's name, `app:subscriber`, must not match). */
  const isSubscribe = (chunk: Buffer) => /\*\d+\r\n\$9\r\nsubscribe\r\n/i.test(chunk.toString('latin1'));

  beforeAll(async () => {
    relay = await startTcpRelay(Number(new URL(TEST_REDIS_URL).port || 6379));
    const keyPrefix = uniqueKeyPrefix('revfeed');
    options = { url: `redis://127.0.0.1:${relay.port}`, keyPrefix, commandTimeoutMs: 1000 };
    publisher = createRedisClient({ ...options, url: TEST_REDIS_URL }, 'main');
    await publisher.connect();
  });

  beforeEach(async () => {
    const heard: string[] = (events = []);
    subscriber = createRedisClient(options, 'subscriber');
    subscriber.on('error', () => undefined);
    await subscriber.connect();
    const store = new RedisSessionStore(publisher, options, subscriber);
    await store.watchRevocations({
      revoked: (message) => heard.push(`revoked ${message}`),
      lost: () => heard.push('lost'),
      ready: (up) => heard.push(`ready ${up}`),
    });
  });

  afterEach(() => {
    relay.release();
    subscriber.disconnect();
  });

  afterAll(async () => {
    publisher.disconnect();
    await relay.close();
  });

  const announce = (message: string) => publisher.publish(sessionsKeys.revocationChannel(options.keyPrefix), message);

  it('is reported up again only once Redis has answered the new SUBSCRIBE, and then delivers announcements', async () => {
    relay.holdClientBytes(isSubscribe);
    relay.cut();
    await until('the reconnect', () => events.includes('lost') && subscriber.status === 'ready');
    // Reconnected, but the SUBSCRIBE is held: an announcement now is missed, so the feed is not up.
    await announce('s:missed');
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toEqual(['lost']);

    relay.release();
    await until('the feed to be up', () => events.includes('ready true'));
    await announce('s:after');
    await until('the announcement', () => events.includes('revoked s:after'));
    expect(events).toEqual(['lost', 'ready true', 'revoked s:after']);
  });

  it('survives a re-subscription cut off by the connection closing (no unhandled rejection)', async () => {
    relay.holdClientBytes(isSubscribe);
    relay.cut();
    await until('the reconnect', () => events.includes('lost') && subscriber.status === 'ready');
    await new Promise((r) => setTimeout(r, 50));
    // The held SUBSCRIBE is rejected with "Connection is closed."; unhandled, it would end the process
    // (and Jest fails this test on it).
    subscriber.disconnect();
    await new Promise((r) => setTimeout(r, 100));
    expect(events).toEqual(['lost', 'lost']);
  });
});
