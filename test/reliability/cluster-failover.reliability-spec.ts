import { sessionsKeys } from '@nest-hardening/sessions';

import { startProcessSystem, startRedisCluster, type ProcessSystem, type TestRedisCluster } from '../support';
import {
  call,
  freshIp,
  logIn,
  register,
  sessionIdOf,
  sleep,
  statusCounts,
  type Account,
  type Reply,
  type Session,
} from './reliability-client';

/**
 * Issue 15: the apps as processes (2 api-gateways, 2 auth-services, 1 profile-service) on a Redis
 * Cluster of 3 masters with one replica each, with a password and TLS. Under continuous mixed traffic through the gateways,
 * the master that holds some users' sessions is killed (SIGKILL) and its replica takes over.
 *
 * Every request has a client deadline and never throws: one that outlives it counts as a hang.
 * What must hold: no 5xx other than 503 (with Retry-After and a message), no hang, a revoked token
 * never accepted (before, during and after the failover), and every operation succeeding again
 * once the cluster has failed over. The recovery time is printed, not asserted.
 */

/** Failure detection after 1 s of silence; the replica is promoted about a second later. */
const NODE_TIMEOUT_MS = 1000;
/** Above the gateway's upstream timeout (10 s), so a slow upstream shows as its answer, not as a hang. */
const CLIENT_TIMEOUT_MS = 15_000;
const REVOCATION_CACHE_MS = 500;
/**
 * The documented revocation bound: a revoked access token is refused everywhere within 1 s of the
 * revoking answer (a cached "active" answer lives at most REVOCATION_CACHE_MS, even if the pub/sub
 * message is lost while the subscriber's node fails). Refresh tokens are checked in Redis on every
 * use, so they have no such window.
 */
const ACCESS_REVOCATION_BOUND_MS = 1000;
const BEFORE_KILL_MS = 3000;
const AFTER_RECOVERY_MS = 3000;
/** Give up (and fail) when the system has not recovered this long after the kill. */
const RECOVERY_DEADLINE_MS = 40_000;
const BUDGETS_NOBODY_REACHES = {
  RATE_LIMIT_GENERAL_LIMIT: '1000000',
  RATE_LIMIT_AUTH_LIMIT: '1000000',
  RATE_LIMIT_REFRESH_LIMIT: '1000000',
  RATE_LIMIT_PROFILE_LIMIT: '1000000',
};

type Kind = 'me' | 'profile' | 'refresh' | 'login' | 'revoked-me' | 'revoked-profile' | 'revoked-refresh' | 'revoke';

interface Outcome {
  kind: Kind;
  reply: Reply;
  startedAt: number;
  /** The user the request was for (to say which master held its keys). */
  user: string;
}

interface User {
  name: string;
  id: string;
  account: Account;
  /** The client address of this user: refresh fingerprints stay stable. */
  from: string;
  /** Whether the user's keys (`{u:<id>}`) live on the master that is killed. */
  onKilledMaster: boolean;
}

/** A live session that the traffic keeps using: its tokens are replaced at every rotation. */
interface Worker {
  user: User;
  session: Session;
  turn: number;
}

/** A session that has been revoked: from `revokedAt` (the revoking 204), nothing may accept its tokens. */
interface Revoked {
  user: User;
  session: Session;
  how: string;
  revokedAt: number;
}

const bearer = (token: string) => ({ token, timeoutMs: CLIENT_TIMEOUT_MS });

describe('Redis Cluster failover under traffic (3 masters + 3 replicas, the apps as processes)', () => {
  let cluster: TestRedisCluster;
  let system: ProcessSystem;
  let next = 0;
  const gateway = () => system.gatewayUrls[next++ % system.gatewayUrls.length];

  beforeAll(async () => {
    // As a managed cluster runs: a password, and TLS for clients, replication and the cluster bus.
    cluster = await startRedisCluster({ replicas: 1, nodeTimeoutMs: NODE_TIMEOUT_MS, password: 'failover-password', tls: true });
    system = await startProcessSystem({
      label: 'failover',
      gateways: 2,
      authServices: 2,
      env: { ...cluster.env, REVOCATION_CACHE_MS: String(REVOCATION_CACHE_MS), RATE_LIMIT_PROFILE_LIMIT: '1000000' },
      gatewayEnv: BUDGETS_NOBODY_REACHES,
      authEnv: { RATE_LIMIT_REFRESH_LIMIT: '1000000', RATE_LIMIT_AUTH_LIMIT: '1000000' },
    });
  }, 180_000);

  afterAll(async () => {
    if (system) {
      for (const p of system.processes().filter((p) => !p.alive())) {
        process.stdout.write(`failover: ${p.app} ${p.index} died:\n${p.logTail()}\n`);
      }
    }
    await system?.close();
    await cluster?.stop();
  }, 60_000);

  /** Registers users until at least `onKilled` of them have their keys on one master and `elsewhere` on the others; returns that master too. */
  async function registerUsers(onKilled: number, elsewhere: number): Promise<{ victim: string; users: User[] }> {
    const registered: { id: string; account: Account; master: string }[] = [];
    for (;;) {
      const account = await register(system.authUrls[registered.length % 2]);
      const session = await logIn(system.authUrls[0], account);
      const id = (JSON.parse(Buffer.from(session.accessToken.split('.')[1], 'base64url').toString()) as { sub: string }).sub;
      await call(system.authUrls[0], 'POST', '/auth/logout', bearer(session.accessToken));
      registered.push({ id, account, master: await cluster.masterOf(`${system.keyPrefix}${sessionsKeys.userTag(id)}`) });
      const byMaster = new Map<string, number>();
      for (const r of registered) byMaster.set(r.master, (byMaster.get(r.master) ?? 0) + 1);
      const [victim, count] = [...byMaster].sort((a, b) => b[1] - a[1])[0];
      if (count >= onKilled && registered.length - count >= elsewhere) {
        return {
          victim,
          users: registered.map((r, i) => ({
            name: `user ${i}`,
            id: r.id,
            account: r.account,
            from: freshIp(),
            onKilledMaster: r.master === victim,
          })),
        };
      }
    }
  }

  it('a killed master fails over: no 500, no hang, revoked tokens never accepted, every operation succeeds again', async () => {
    // Users whose keys live on the master to be killed: two keep working (one of them also has a
    // second session ended with DELETE before the kill), one logs out before and one during the
    // outage. Elsewhere: one keeps working, one logs out during the outage, one only logs in.
    const { victim, users } = await registerUsers(4, 3);
    const [v0, v1, v2, v3] = users.filter((u) => u.onKilledMaster);
    const [e0, e1, e2] = users.filter((u) => !u.onKilledMaster);
    const loginUser = e2;

    const openSession = async (user: User) => logIn(gateway(), user.account, '/api/auth/login', user.from);
    const workers: Worker[] = [];
    for (const user of [v0, v1, e0]) workers.push({ user, session: await openSession(user), turn: 0 });
    const toDelete = await openSession(v0);
    const beforeLogout = await openSession(v2);
    const duringLogout = [await openSession(v3), await openSession(e1)];

    const outcomes: Outcome[] = [];
    const revoked: Revoked[] = [];
    const record = async (kind: Kind, user: User, send: () => Promise<Reply>): Promise<Reply> => {
      const startedAt = Date.now();
      const reply = await send();
      outcomes.push({ kind, reply, startedAt, user: user.name });
      return reply;
    };

    /** Revokes with `send` until it answers 204 (a 503 while the user's master is down is allowed); the session counts as revoked from that answer. */
    const revoke = async (user: User, session: Session, how: string, send: () => Promise<Reply>) => {
      for (;;) {
        const reply = await record('revoke', user, send);
        if (reply.status === 204) {
          revoked.push({ user, session, how, revokedAt: Date.now() });
          return;
        }
        await sleep(100);
      }
    };

    /** One operation per worker (alternating /api/me, /api/profile and a refresh rotation). */
    const work = async (worker: Worker): Promise<boolean> => {
      const turn = worker.turn++;
      const { user, session } = worker;
      if (turn % 3 === 0)
        return (await record('me', user, () => call(gateway(), 'GET', '/api/me', bearer(session.accessToken)))).status === 200;
      if (turn % 3 === 1)
        return (await record('profile', user, () => call(gateway(), 'GET', '/api/profile', bearer(session.accessToken)))).status === 200;
      const reply = await record('refresh', user, () =>
        call(gateway(), 'POST', '/api/auth/refresh', {
          from: user.from,
          body: { refreshToken: session.refreshToken },
          timeoutMs: CLIENT_TIMEOUT_MS,
        }),
      );
      // Without an answer the old refresh token is used again: within the reuse grace window it
      // yields the same successor, so a rotation whose answer was lost does not end the session.
      if (reply.status !== 200) return false;
      worker.session = {
        accessToken: reply.body.accessToken as string,
        refreshToken: reply.body.refreshToken as string,
        sessionId: session.sessionId,
      };
      return true;
    };

    /** Every revoked session's refresh token, and (once the revocation bound has passed) its access token, through the gateways and profile-service. */
    const probeRevoked = async (): Promise<boolean> => {
      const now = Date.now();
      const probes = revoked.flatMap(({ user, session, revokedAt }) => [
        record('revoked-refresh', user, () =>
          call(gateway(), 'POST', '/api/auth/refresh', {
            from: user.from,
            body: { refreshToken: session.refreshToken },
            timeoutMs: CLIENT_TIMEOUT_MS,
          }),
        ),
        ...(now >= revokedAt + ACCESS_REVOCATION_BOUND_MS
          ? [
              record('revoked-me', user, () => call(gateway(), 'GET', '/api/me', bearer(session.accessToken))),
              record('revoked-profile', user, () => call(gateway(), 'GET', '/api/profile', bearer(session.accessToken))),
              record('revoked-profile', user, () => call(system.profileUrl, 'GET', '/profile', bearer(session.accessToken))),
            ]
          : []),
      ]);
      return (await Promise.all(probes)).every((r) => r.status === 401);
    };

    /** A round: every worker, one login and every revoked probe, concurrently. Fully successful when each answered as it should. */
    interface Round {
      startedAt: number;
      endedAt: number;
      ok: boolean;
    }
    const rounds: Round[] = [];
    let running = true;
    const traffic = (async () => {
      while (running) {
        const startedAt = Date.now();
        const results = await Promise.all([
          ...workers.map(work),
          record('login', loginUser, () =>
            call(gateway(), 'POST', '/api/auth/login', { from: loginUser.from, body: loginUser.account, timeoutMs: CLIENT_TIMEOUT_MS }),
          ).then((r) => r.status === 200),
          probeRevoked(),
        ]);
        rounds.push({ startedAt, endedAt: Date.now(), ok: results.every(Boolean) });
      }
    })();

    // Before the kill: one session ended with DELETE /api/me/sessions/:id, one with logout.
    await revoke(v0, toDelete, 'DELETE session before the kill', () =>
      call(gateway(), 'DELETE', `/api/me/sessions/${toDelete.sessionId}`, bearer(workers[0].session.accessToken)),
    );
    await revoke(v2, beforeLogout, 'logout before the kill', () =>
      call(gateway(), 'POST', '/api/auth/logout', bearer(beforeLogout.accessToken)),
    );
    await sleep(BEFORE_KILL_MS);

    const killedAt = Date.now();
    const roundsBeforeKill = rounds.length;
    await cluster.kill(victim);
    // During the outage: a logout on the failed master's slots (503 until its replica takes over) and one elsewhere.
    const duringRevocations = Promise.all(
      [v3, e1].map((user, i) =>
        revoke(user, duringLogout[i], `logout during the outage (${user.onKilledMaster ? 'failed master' : 'other master'})`, () =>
          call(gateway(), 'POST', '/api/auth/logout', bearer(duringLogout[i].accessToken)),
        ),
      ),
    );
    await cluster.waitForOk(RECOVERY_DEADLINE_MS);
    const failedOverAt = Date.now();
    await duringRevocations;

    // Recovered: the first round that started after the kill in which everything answered as it should.
    let recovered: Round | undefined;
    while (!recovered && Date.now() - killedAt < RECOVERY_DEADLINE_MS) {
      recovered = rounds.slice(roundsBeforeKill).find((r) => r.startedAt > killedAt && r.ok);
      if (!recovered) await sleep(50);
    }
    if (recovered) await sleep(AFTER_RECOVERY_MS);
    running = false;
    await traffic;

    const counts: Partial<Record<Kind, Record<number, number>>> = {};
    for (const kind of new Set(outcomes.map((o) => o.kind)))
      counts[kind] = statusCounts(outcomes.filter((o) => o.kind === kind).map((o) => o.reply));
    const answers503 = new Set(outcomes.filter((o) => o.reply.status === 503).map((o) => JSON.stringify(o.reply.body)));
    const outage = outcomes.filter((o) => o.startedAt >= killedAt && o.startedAt < (recovered?.endedAt ?? Date.now()));
    const slowest = (list: Outcome[]) => (list.length ? Math.max(...list.map((o) => o.reply.ms)) : 0);
    const log = [
      `killed master ${victim} (keys of ${users.filter((u) => u.onKilledMaster).length} of ${users.length} users)`,
      `replica promoted, cluster ok: ${failedOverAt - killedAt} ms after the kill`,
      `recovery (kill → end of the first fully successful round): ${recovered ? `${recovered.endedAt - killedAt} ms` : 'none'}`,
      `rounds: ${roundsBeforeKill} before the kill, ${rounds.length - roundsBeforeKill} after (${rounds.filter((r) => r.startedAt > killedAt && !r.ok).length} not fully successful)`,
      `requests: ${outcomes.length}; statuses by kind: ${JSON.stringify(counts)}`,
      `between the kill and recovery: ${outage.length} requests, ${JSON.stringify(statusCounts(outage.map((o) => o.reply)))}, slowest answer ${slowest(outage)} ms (before the kill: ${slowest(outcomes.filter((o) => o.startedAt < killedAt))} ms)`,
      `503 bodies: ${[...answers503].join(' | ') || 'none'}`,
      `revocations: ${revoked.map((r) => `${r.how} at ${r.revokedAt - killedAt} ms`).join('; ')}`,
    ];
    process.stdout.write(`\n==== cluster failover ====\n${log.join('\n')}\n\n`);

    if (outcomes.some((o) => o.reply.status >= 500 && o.reply.status !== 503)) {
      for (const p of system.processes()) process.stdout.write(`failover: log of ${p.app} ${p.index}:\n${p.logTail(40)}\n`);
    }
    const explain = (o: Outcome) =>
      `${o.kind} (${o.user}) at ${o.startedAt - killedAt} ms: ${o.reply.status} ${o.reply.error ?? JSON.stringify(o.reply.body)}`;
    // No hang, no transport error, no 5xx but 503, and every 503 says so with Retry-After.
    expect(outcomes.filter((o) => o.reply.hung || o.reply.status === 0).map(explain)).toEqual([]);
    expect(outcomes.filter((o) => o.reply.status >= 500 && o.reply.status !== 503).map(explain)).toEqual([]);
    expect(
      outcomes.filter((o) => o.reply.status === 503 && !(o.reply.headers['retry-after'] && o.reply.body.message)).map(explain),
    ).toEqual([]);
    // Working sessions are never refused (no lost rotation, no surprise logout), and nobody hits a budget.
    const working: Kind[] = ['me', 'profile', 'refresh', 'login', 'revoke'];
    expect(outcomes.filter((o) => working.includes(o.kind) && ![200, 204, 503].includes(o.reply.status)).map(explain)).toEqual([]);
    // Revoked tokens: never accepted, before, during or after the failover.
    expect(outcomes.filter((o) => o.kind.startsWith('revoked') && o.reply.status < 300).map(explain)).toEqual([]);
    expect(outcomes.filter((o) => o.kind.startsWith('revoked') && ![401, 503].includes(o.reply.status)).map(explain)).toEqual([]);
    expect(revoked).toHaveLength(4);
    // The system recovered, and from then on every round answered fully.
    expect(recovered).toBeDefined();
    expect(rounds.filter((r) => recovered && r.startedAt >= recovered.startedAt && !r.ok)).toEqual([]);
    expect(rounds.filter((r) => recovered && r.startedAt > recovered.endedAt).length).toBeGreaterThan(0);
    // It was a failover: the keys in use moved to a promoted replica, with traffic running throughout.
    expect(await cluster.masterOf(`${system.keyPrefix}${sessionsKeys.userTag(v0.id)}`)).not.toBe(victim);
    expect(outcomes.some((o) => o.startedAt > killedAt && o.startedAt < failedOverAt)).toBe(true);
    expect(
      system
        .processes()
        .filter((p) => !p.alive())
        .map((p) => `${p.app} ${p.index}`),
    ).toEqual([]);
    // The sessions that kept working are still live after the failover.
    for (const worker of workers) {
      expect((await call(gateway(), 'GET', '/api/me', bearer(worker.session.accessToken))).status).toBe(200);
      expect(sessionIdOf(worker.session.accessToken)).toBe(worker.session.sessionId);
    }
  }, 150_000);
});
