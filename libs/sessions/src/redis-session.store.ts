import { randomBytes } from 'node:crypto';

import { Inject, Injectable, Logger, Optional, type OnModuleDestroy } from '@nestjs/common';

import type { Role } from '@nest-hardening/auth';
import { DependencyUnavailableError, failureReason } from '@nest-hardening/errors';
import {
  InjectRedis,
  InjectRedisSubscriber,
  REDIS_MODULE_OPTIONS,
  redisCall,
  ScriptDeadlines,
  type RedisClient,
  type RedisModuleOptions,
} from '@nest-hardening/redis';

import { deviceLabel } from './device-label';
import { RevocationFeedProbe } from './revocation-feed.probe';
import { ADVANCE_AUTH_VERSION_SCRIPT } from './scripts/advance-auth-version.script';
import { CHECK_SESSION_SCRIPT } from './scripts/check-session.script';
import { CREATE_SESSION_SCRIPT } from './scripts/create-session.script';
import { LIST_SESSIONS_SCRIPT } from './scripts/list-sessions.script';
import { LOGOUT_SCRIPT } from './scripts/logout.script';
import { RESERVE_CREDENTIAL_CHECK_SCRIPT } from './scripts/reserve-credential-check.script';
import { KEPT_SESSION_ENDED, REVOKE_SESSIONS_SCRIPT } from './scripts/revoke-sessions.script';
import { ROTATE_REFRESH_TOKEN_SCRIPT } from './scripts/rotate-refresh-token.script';
import type { Session } from './session.interface';
import {
  DEFAULT_PROBE_INTERVAL_MS,
  SessionStore,
  type NewSession,
  type RevocationListener,
  type RevocationWatchOptions,
  type RotationOutcome,
  type RotationRequest,
  type RotationResult,
} from './session.store';
import { StaleAuthorizationError } from './sessions.errors';
import { SessionFields as F, sessionsKeys } from './sessions.keys';

/**
 * The Redis session store: one Lua script (one round trip) per call, revocations announced on the
 * pub/sub channel of `sessionsKeys`, so every instance of every service sees them. `subscriber`
 * (a connection in subscriber mode) is needed only to watch revocations.
 */
@Injectable()
export class RedisSessionStore extends SessionStore implements OnModuleDestroy {
  private readonly logger = new Logger(RedisSessionStore.name);
  private readonly channel: string;
  private readonly deadlines: ScriptDeadlines;
  private readonly probes = new Set<RevocationFeedProbe>();

  constructor(
    @InjectRedis() private readonly redis: RedisClient,
    @Inject(REDIS_MODULE_OPTIONS) redisOptions: RedisModuleOptions,
    @Optional() @InjectRedisSubscriber() private readonly subscriber?: RedisClient,
  ) {
    super();
    this.channel = sessionsKeys.revocationChannel(redisOptions.keyPrefix);
    this.deadlines = ScriptDeadlines.of(redis);
  }

  /**
   * With a deadline (docs/decisions/009): a session write Redis runs after this login was answered
   * 503 creates nothing, so no session exists that its client never received (nor ends another to
   * make room for it under the cap). Sent at once, so it shares the login's round trip with the
   * lockout's success record.
   */
  async create(input: NewSession): Promise<{ session: Session; evicted: string[] }> {
    const sessionId = randomBytes(16).toString('base64url');
    const { userId, role, client, fingerprint } = input;
    const device = deviceLabel(client.userAgent);
    const sessionKey = sessionsKeys.session(userId, sessionId);
    const reply = await this.deadlines.run<[number, number, string[], number] | [-1, number]>(
      CREATE_SESSION_SCRIPT,
      this.deadlines.nodeOfKey(sessionKey),
      [sessionKey, sessionsKeys.index(userId), sessionsKeys.authVersion(userId)],
      [
        sessionId,
        userId,
        role,
        input.idleTtlMs,
        input.absoluteTtlMs,
        client.ip,
        device,
        fingerprint.userAgent,
        fingerprint.ip,
        input.maxSessions,
        this.channel,
        input.authVersion,
      ],
    );
    if (reply.length === 2) throw new StaleAuthorizationError();
    const [expiresAt, absoluteExpiresAt, evicted, createdAt] = reply;
    return {
      session: {
        id: sessionId,
        userId,
        role,
        createdAt: new Date(Number(createdAt)),
        lastSeenAt: new Date(Number(createdAt)),
        expiresAt: new Date(Number(expiresAt)),
        absoluteExpiresAt: new Date(Number(absoluteExpiresAt)),
        ip: client.ip,
        device,
      },
      evicted: evicted.map(String),
    };
  }

  /**
   * With a deadline (docs/decisions/009): a rotation Redis runs after this call was answered 503
   * changes nothing, so the token the client still holds stays current for its retry.
   */
  async rotate(request: RotationRequest): Promise<RotationResult> {
    const sessionKey = sessionsKeys.session(request.userId, request.sessionId);
    const [outcome, generation, expiresAt, role, uaMismatch, ipMismatch] = await this.deadlines.run<
      [RotationOutcome, number, number, Role, number, number, number]
    >(
      ROTATE_REFRESH_TOKEN_SCRIPT,
      this.deadlines.nodeOfKey(sessionKey),
      [sessionKey, sessionsKeys.index(request.userId), sessionsKeys.authVersion(request.userId)],
      [
        request.sessionId,
        request.presentedGeneration,
        request.graceMs,
        request.idleTtlMs,
        request.fingerprint.userAgent,
        request.fingerprint.ip,
        request.userAgentPolicy,
        request.ipPolicy,
        this.channel,
        request.previousFingerprint?.userAgent ?? '',
        request.previousFingerprint?.ip ?? '',
      ],
    );
    return {
      outcome,
      generation: Number(generation),
      expiresAt: new Date(Number(expiresAt)),
      role,
      userAgentMismatch: Number(uaMismatch) === 1,
      ipMismatch: Number(ipMismatch) === 1,
    };
  }

  async list(userId: string): Promise<Session[]> {
    const flat = await this.withSessionKeys(userId, [sessionsKeys.index(userId)], (keys) =>
      LIST_SESSIONS_SCRIPT.run<(string | string[])[] | -1>(this.redis, keys, []),
    );
    const sessions: Session[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const fields = flat[i + 1] as string[];
      const map = new Map<string, string>();
      for (let j = 0; j < fields.length; j += 2) map.set(fields[j], fields[j + 1]);
      sessions.push(toSession(flat[i] as string, map));
    }
    return sessions;
  }

  async revoke(userId: string, sessionId: string): Promise<boolean> {
    const ended = await this.revokeSessions(userId, 'one', sessionId);
    return ended !== KEPT_SESSION_ENDED && ended.length === 1;
  }

  async revokeOthers(userId: string, keepSessionId: string): Promise<string[] | undefined> {
    const ended = await this.revokeSessions(userId, 'others', keepSessionId);
    return ended === KEPT_SESSION_ENDED ? undefined : ended;
  }

  async revokeAll(userId: string): Promise<string[]> {
    return (await this.revokeSessions(userId, 'all', '')) as string[];
  }

  /**
   * Each attempt publishes the version before it ends the sessions it was given (see the script), so
   * while it retries only logins that read the new version can add sessions; the sessions ended are
   * gathered across attempts. A session a later attempt was not given joined the index after an
   * earlier attempt published the version, so it is under that version and stays: that attempt is
   * complete, or the user's own logins with the new password would turn a change already made into a
   * 503 that loses the ids of the sessions it ended.
   */
  advanceAuthVersion(userId: string, version: number, keepSessionId?: string, keepFrom = 0): Promise<string[]> {
    const ended: string[] = [];
    let published = false;
    return this.withSessionKeys(userId, [sessionsKeys.index(userId), sessionsKeys.authVersion(userId)], async (keys) => {
      const [complete, sids] = await ADVANCE_AUTH_VERSION_SCRIPT.run<[number, string[]]>(this.redis, keys, [
        version,
        keepSessionId ?? '',
        this.channel,
        keepFrom,
      ]);
      ended.push(...sids.map(String));
      if (complete === 1 || published) return ended;
      published = true;
      return -1;
    });
  }

  /**
   * With a deadline (docs/decisions/009): a check Redis runs after this call was answered 503 counts
   * nothing, so a stall cannot spend the session's checks (and end it) without a password verified.
   */
  async reserveCredentialCheck(userId: string, sessionId: string, maxChecks: number): Promise<number> {
    const sessionKey = sessionsKeys.session(userId, sessionId);
    const [check] = await this.deadlines.run<[number, number]>(
      RESERVE_CREDENTIAL_CHECK_SCRIPT,
      this.deadlines.nodeOfKey(sessionKey),
      [sessionKey, sessionsKeys.index(userId)],
      [sessionId, maxChecks, this.channel],
    );
    return Number(check);
  }

  async resetCredentialChecks(userId: string, sessionId: string): Promise<void> {
    await redisCall(this.redis.hdel(sessionsKeys.session(userId, sessionId), F.credentialChecks));
  }

  async logout(userId: string, sessionId: string, jti: string, tokenExpiresAtSeconds: number): Promise<boolean> {
    const live = await LOGOUT_SCRIPT.run<number>(
      this.redis,
      [sessionsKeys.session(userId, sessionId), sessionsKeys.index(userId), sessionsKeys.deniedToken(userId, jti)],
      [sessionId, jti, tokenExpiresAtSeconds * 1000 - Date.now(), this.channel],
    );
    return live === 1;
  }

  async isActive(userId: string, sessionId: string, jti: string): Promise<boolean> {
    return (
      (await CHECK_SESSION_SCRIPT.run<number>(
        this.redis,
        [sessionsKeys.session(userId, sessionId), sessionsKeys.deniedToken(userId, jti)],
        [],
      )) === 1
    );
  }

  /**
   * Besides the subscription, proves the feed with a probe message every `probeIntervalMs` (see
   * {@link RevocationFeedProbe}): one PUBLISH per instance per interval.
   */
  async watchRevocations(listener: RevocationListener, options: RevocationWatchOptions = {}): Promise<void> {
    const subscriber = this.subscriber;
    if (!subscriber) throw new Error('RedisSessionStore needs the Redis subscriber connection to watch revocations');
    const probe = new RevocationFeedProbe(
      listener,
      {
        publish: (message) => this.redis.publish(this.channel, message),
        subscribe: () => subscriber.subscribe(this.channel),
        reconnect: () => subscriber.disconnect(true),
        ready: () => subscriber.status === 'ready',
      },
      options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS,
      (error) => this.logger.warn(`revocation feed could not subscribe again: ${failureReason(error)}`),
    );
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel && !probe.handle(message)) listener.revoked(message);
    });
    subscriber.on('close', () => probe.connectionLost());
    // Closed for good (the app shuts down, or its owner closed the client): nothing left to prove.
    subscriber.on('end', () => probe.stop());
    // After a reconnect the feed is up only once Redis has answered SUBSCRIBE: announcements
    // published before that are missed, so the listener must not trust the feed on 'ready'.
    subscriber.on('ready', () => {
      subscriber.subscribe(this.channel).then(
        () => probe.connectionSubscribed(subscriber.status === 'ready'),
        (error: Error) => {
          // Cut off by the connection closing again: the next 'ready' subscribes again.
          if (subscriber.status === 'ready') this.logger.warn(`revocation feed could not subscribe again: ${failureReason(error)}`);
        },
      );
    });
    await subscriber.subscribe(this.channel);
    this.probes.add(probe);
    probe.start();
  }

  /** Before the connections close (RedisLifecycle closes them at application shutdown): no probe, no reconnect after. */
  onModuleDestroy(): void {
    for (const probe of this.probes) probe.stop();
    this.probes.clear();
  }

  private async revokeSessions(
    userId: string,
    mode: 'one' | 'others' | 'all',
    sessionId: string,
  ): Promise<string[] | typeof KEPT_SESSION_ENDED> {
    const ended = await this.withSessionKeys(userId, [sessionsKeys.index(userId)], (keys) =>
      REVOKE_SESSIONS_SCRIPT.run<string[] | typeof KEPT_SESSION_ENDED | -1>(this.redis, keys, [mode, sessionId, this.channel]),
    );
    return ended === KEPT_SESSION_ENDED ? ended : ended.map(String);
  }

  /**
   * Runs a script that touches every session of the user with their hashes declared after `keys`
   * (a Redis Cluster requires it while the user's slot is being moved): reads the index, runs, and
   * reads again while the script answers -1 (a session was added in between), at most 3 times.
   */
  private async withSessionKeys<T>(userId: string, keys: string[], run: (keys: string[]) => Promise<T | -1>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const sids = await redisCall(this.redis.zrange(sessionsKeys.index(userId), 0, -1));
      const reply = await run([...keys, ...sids.map((sid) => sessionsKeys.session(userId, sid))]);
      if (reply !== -1) return reply;
      if (attempt === 3) throw new DependencyUnavailableError('redis', new Error("the user's session index kept changing"));
    }
  }
}

function toSession(id: string, f: Map<string, string>): Session {
  const ms = (field: string) => new Date(Number(f.get(field) ?? 0));
  return {
    id,
    userId: f.get(F.userId) ?? '',
    role: (f.get(F.role) as Role) ?? 'user',
    createdAt: ms(F.createdAt),
    lastSeenAt: ms(F.lastSeenAt),
    expiresAt: ms(F.expiresAt),
    absoluteExpiresAt: ms(F.absoluteExpiresAt),
    ip: f.get(F.ip) ?? '',
    // Sessions created before the label was stored hold the raw user agent instead.
    device: f.get(F.device) ?? deviceLabel(f.get(F.legacyUserAgent) ?? ''),
  };
}
