import type { Cluster, Redis } from 'ioredis';

import { DependencyUnavailableError } from '@nest-hardening/errors';

import { redisKeySlot } from './key-slot';
import type { RedisClient } from './redis-client.type';
import type { RedisScript } from './redis-script';

/** An observation older than this gives no deadline: the two clocks may have drifted apart since. */
const MAX_OBSERVATION_AGE_MS = 60_000;

/** What a script answers when Redis ran it after its deadline (it changed nothing). */
const LATE = 'late';

/**
 * Lua for a script that takes a deadline: its last argument (Redis ms, 0 for none), checked once
 * `now` is set ({@link REDIS_NOW_LUA}) and before anything is written. The script's every other
 * answer must end with `now`, which {@link ScriptDeadlines.run} reads the clock from.
 */
export const SCRIPT_DEADLINE_LUA = `
local deadline = tonumber(ARGV[#ARGV])
if deadline > 0 and now > deadline then return { '${LATE}', now } end
`;

interface ClockObservation {
  /** Redis's time (ms since the epoch) when it ran a call. */
  redisMs: number;
  /** This process's monotonic time (performance.now()) when that call was sent. */
  sentAt: number;
}

/**
 * A call Redis ran after its deadline twice in a row: it changed nothing, so it is Redis being
 * unavailable, answered 503 like a timeout by whichever caller it reaches.
 */
export class ScriptLateError extends DependencyUnavailableError {
  constructor(script: string) {
    super('redis', new Error(`Redis ran ${script} after its deadline`));
    this.name = 'ScriptLateError';
  }
}

const shared = new WeakMap<RedisClient, ScriptDeadlines>();

/**
 * Deadlines on Redis's clock for script calls that write: the Redis time after which the caller
 * no longer waits for the answer, because the client's command timeout has answered it (503, or
 * a decision in memory). A script that Redis runs later (it stalled, or the network held the call)
 * then changes nothing, where it would otherwise charge a budget or count an attempt that was
 * already answered without it. A timeout cannot withdraw a call already sent, and a refund could
 * undo the wrong thing (the late call may have refused). See docs/decisions/009.
 *
 * Redis's clock is learnt from the calls themselves: each returns the time it ran at, paired with
 * the local monotonic time it was sent at, per node. The Redis time of a new call's sending is
 * estimated from the last pair, so the deadline errs late by at most the send-to-run delay of that
 * last call: a call is not judged late while its caller still waits, except after Redis's clock
 * stepped forward or a slot moved to another node, which the caller sees as a `late` reply it is
 * still waiting for, and answers by sending once more with the new reading.
 */
export class ScriptDeadlines {
  private readonly clocks = new Map<string, ClockObservation>();
  private readonly timeoutMs: number | undefined;
  private readonly keyPrefix: string;

  private constructor(private readonly redis: RedisClient) {
    const options = redis.isCluster ? (redis as Cluster).options.redisOptions : (redis as Redis).options;
    this.timeoutMs = options?.commandTimeout;
    this.keyPrefix = (redis.isCluster ? (redis as Cluster).options.keyPrefix : (redis as Redis).options.keyPrefix) ?? '';
  }

  /** The deadlines of `redis`, shared by every caller of that client (one reading of each node's clock). */
  static of(redis: RedisClient): ScriptDeadlines {
    let deadlines = shared.get(redis);
    if (!deadlines) shared.set(redis, (deadlines = new ScriptDeadlines(redis)));
    return deadlines;
  }

  /** The node that serves `slot` (the whole server on a single Redis): each has its own clock. */
  nodeOf(slot: number): string {
    return this.redis.isCluster ? ((this.redis as Cluster).slots[slot]?.[0] ?? '') : '';
  }

  /** The node that serves `key` (without the client's key prefix). */
  nodeOfKey(key: string): string {
    return this.redis.isCluster ? this.nodeOf(redisKeySlot(this.keyPrefix + key)) : '';
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

  /**
   * Runs `script` (written with {@link SCRIPT_DEADLINE_LUA}) on `node` with its deadline as the last
   * argument. A `late` reply that still arrives found its caller waiting, so the deadline was wrong
   * (a clock step, a moved slot): the call, which changed nothing, goes once more with the clock
   * just read; a second one fails with {@link ScriptLateError}.
   */
  async run<T extends unknown[]>(
    script: RedisScript,
    node: string,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<T> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const sentAt = performance.now();
      const reply = await script.run<T>(this.redis, keys, [...args, this.deadline(node, sentAt)]);
      this.observe(node, Number(reply[reply.length - 1]), sentAt);
      if (reply[0] !== LATE) return reply;
    }
    throw new ScriptLateError(script.name);
  }
}
