import type { Cluster, Redis } from 'ioredis';

import type { RedisClient } from './redis-client.type';

/** An observation older than this gives no deadline: the two clocks may have drifted apart since. */
const MAX_OBSERVATION_AGE_MS = 60_000;

interface ClockObservation {
  /** Redis's time (ms since the epoch) when it ran a call. */
  redisMs: number;
  /** This process's monotonic time (performance.now()) when that call was sent. */
  sentAt: number;
}

/**
 * Deadlines on Redis's clock for script calls that write: the Redis time after which the caller
 * no longer waits for the answer, because the client's command timeout has answered it (503, or
 * a decision in memory). A script that Redis runs later (it stalled, or the network held the call)
 * can then change nothing, where it would otherwise charge a budget or count an attempt that was
 * already answered without it. A timeout cannot withdraw a call already sent, and a refund could
 * undo the wrong thing (the late call may have refused).
 *
 * Redis's clock is learnt from the calls themselves: each returns the time it ran at, paired with
 * the local monotonic time it was sent at, per node. The Redis time of a new call's sending is
 * estimated from the last pair, so the deadline errs late by at most the send-to-run delay of that
 * last call (well under a millisecond on a healthy link): a call is never judged late while its
 * caller still waits, except after Redis's clock stepped forward, which the caller sees as a `late`
 * reply it is still waiting for, and answers by sending once more with the new reading.
 */
export class ScriptDeadlines {
  private readonly clocks = new Map<string, ClockObservation>();
  private readonly timeoutMs: number | undefined;

  constructor(private readonly redis: RedisClient) {
    this.timeoutMs = redis.isCluster ? (redis as Cluster).options.redisOptions?.commandTimeout : (redis as Redis).options.commandTimeout;
  }

  /** The node that serves `slot` (the whole server on a single Redis): each has its own clock. */
  nodeOf(slot: number): string {
    return this.redis.isCluster ? ((this.redis as Cluster).slots[slot]?.[0] ?? '') : '';
  }

  /**
   * The deadline to pass to a call sent now (`sentAt`: performance.now()) to `node`, in Redis
   * milliseconds; 0 (no deadline) without a recent reading of that node's clock or without a
   * command timeout.
   */
  deadline(node: string, sentAt: number): number {
    const clock = this.clocks.get(node);
    if (this.timeoutMs === undefined || clock === undefined || sentAt - clock.sentAt > MAX_OBSERVATION_AGE_MS) return 0;
    return Math.ceil(clock.redisMs + (sentAt - clock.sentAt) + this.timeoutMs);
  }

  /** Records that `node` ran a call sent at `sentAt` when its clock read `redisMs`. */
  observe(node: string, redisMs: number, sentAt: number): void {
    this.clocks.set(node, { redisMs, sentAt });
  }
}
