import { randomBytes } from 'node:crypto';

import type { RevocationListener } from './session.store';

/** Prefix of a probe message on the revocation channel; revocations are `s:<sid>` and `j:<jti>`. */
const PROBE_PREFIX = 'p:';

/** What the probe needs from the Redis clients of the store. */
export interface RevocationFeedConnection {
  /** Publishes `message` on the revocation channel. */
  publish(message: string): Promise<unknown>;
  /** Sends SUBSCRIBE for the revocation channel again (a no-op for Redis when it is still subscribed). */
  subscribe(): Promise<unknown>;
  /** Drops the subscriber's connection(s) and lets the client connect again (its own retry strategy). */
  reconnect(): void;
  /**
   * Whether the subscriber client believes it is connected. Otherwise it is reconnecting by itself
   * (each of its attempts bounded by its timeouts), and a reconnect of ours would only restart it.
   */
  ready(): boolean;
}

/**
 * Proves the revocation feed end to end, whatever the transport hides: every `intervalMs` this
 * instance publishes `p:<instance id>:<n>` on the revocation channel and expects to hear it back. A
 * probe not heard back by the time the next-but-one is due means announcements may be missed (a
 * Cluster subscriber replaced out of sight or left unsubscribed, a half-open connection): the
 * listener is told `lost`, and told `ready` again when an own probe arrives.
 *
 * Two sources of truth, one rule: the feed is up only while the connection is up (its last SUBSCRIBE
 * answered, or an own probe heard on it, no close since) AND probes come back. Either going down
 * reports `lost` at once; `ready` is reported only when the other one is up too. So a connection
 * that is ready again while probes still fail keeps the checker from caching, and a probe heard
 * while the connection is down cannot make it cache either. At start the probes are presumed up:
 * the SUBSCRIBE was just answered.
 *
 * While probes fail, each missed deadline tries to bring the feed back: SUBSCRIBE again (ioredis
 * does not retry a cluster subscriber's refused re-subscription), or, when the previous SUBSCRIBE
 * got no answer at all (a dead connection that never closed), reconnect the subscriber.
 */
export class RevocationFeedProbe {
  private readonly id = randomBytes(12).toString('hex');
  private sent = 0;
  private heard = 0;
  private probesUp = true;
  private connectionUp = true;
  /** The last SUBSCRIBE sent to recover: Redis answered it (even with an error), or not (yet). */
  private resubscription: 'none' | 'pending' | 'answered' | 'unanswered' = 'none';
  private resubscriptions = 0;
  /** The reason of a refused SUBSCRIBE is reported once per outage, not at every deadline. */
  private refusalReported = false;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly listener: RevocationListener,
    private readonly connection: RevocationFeedConnection,
    private readonly intervalMs: number,
    private readonly onRefusedSubscribe: (error: Error) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    // Unref'd: a probe must never keep a process (or a test run) alive.
    this.timer = setInterval(() => this.tick(), this.intervalMs).unref();
    this.send();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Whether `message` is a probe (this instance's or another's): a probe is never a revocation. */
  handle(message: string): boolean {
    if (!message.startsWith(PROBE_PREFIX)) return false;
    const [id, n] = message.slice(PROBE_PREFIX.length).split(':');
    if (id === this.id && this.timer) {
      this.heard = Math.max(this.heard, Number(n));
      const wasUp = this.probesUp && this.connectionUp;
      // Heard on a ready connection, an own probe proves its subscription as an answered SUBSCRIBE
      // would: the one sent on 'ready' may have been refused or timed out before a later one got
      // through, and nothing else would ever report this connection up again.
      if (this.connection.ready()) this.connectionUp = true;
      if (!this.probesUp) {
        this.probesUp = true;
        this.resubscription = 'none';
        this.refusalReported = false;
      }
      if (!wasUp && this.connectionUp) this.listener.ready(true);
    }
    return true;
  }

  /** The subscriber's connection closed: announcements are missed until it has subscribed again. */
  connectionLost(): void {
    this.connectionUp = false;
    this.forgetResubscription();
    this.listener.lost();
  }

  /** Redis answered the SUBSCRIBE sent after a (re)connect; `up` is false when the connection closed meanwhile. */
  connectionSubscribed(up: boolean): void {
    this.connectionUp = up;
    this.forgetResubscription();
    if (this.probesUp) this.listener.ready(up);
    // Else the feed comes back with the first own probe heard: one now, not at the next tick.
    else if (up) this.send();
  }

  private tick(): void {
    // The probe sent at the previous tick may still be under way; the one before it is overdue.
    if (this.sent - this.heard >= 2) this.missed();
    this.send();
  }

  private missed(): void {
    if (this.probesUp) {
      this.probesUp = false;
      this.listener.lost(`probe not heard back within ${2 * this.intervalMs} ms`);
    }
    // Not ready: the client is reconnecting by itself and subscribes again once it is.
    if (!this.connection.ready()) return;
    if (this.resubscription === 'pending' || this.resubscription === 'unanswered') {
      this.forgetResubscription();
      this.connection.reconnect();
      return;
    }
    this.resubscription = 'pending';
    const attempt = ++this.resubscriptions;
    const settle = (outcome: 'answered' | 'unanswered') => {
      if (attempt === this.resubscriptions && this.resubscription === 'pending') this.resubscription = outcome;
    };
    this.connection.subscribe().then(
      () => settle('answered'),
      (error: Error) => {
        // A reply error (NOPERM after an ACL change) came from a live connection: SUBSCRIBE again at
        // the next deadline. No answer (a timeout, the connection closing) calls for a reconnect.
        if (error.name !== 'ReplyError') return settle('unanswered');
        settle('answered');
        if (!this.refusalReported) this.onRefusedSubscribe(error);
        this.refusalReported = true;
      },
    );
  }

  /** A connection event (or our reconnect) makes the last SUBSCRIBE's fate irrelevant. */
  private forgetResubscription(): void {
    this.resubscription = 'none';
    this.resubscriptions++;
  }

  private send(): void {
    const n = ++this.sent;
    // A PUBLISH that fails (Redis down, refused) is a probe not heard back; it never throws.
    this.connection.publish(`${PROBE_PREFIX}${this.id}:${n}`).catch(() => undefined);
  }
}
