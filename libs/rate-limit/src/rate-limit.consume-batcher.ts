import { ScriptDeadlines, type RedisClient } from '@nest-hardening/redis';

import { rateLimitKeys, windowOf } from './rate-limit.keys';
import type { RateLimitCharge, RateLimitDecision, RateLimitOutcome } from './rate-limit.store.interface';
import { CONSUME_RATE_LIMIT_SCRIPT } from './scripts/consume.script';

interface PendingConsume {
  charges: readonly RateLimitCharge[];
  cost: number;
  resolve: (decision: RateLimitDecision) => void;
  reject: (error: unknown) => void;
}

/** One charge kind of a call: a window (KEYS pair), with the limit, length and block it is charged with. */
interface ChargeKind {
  /** 1-based, as the script indexes it. */
  index: number;
  pair: number;
  limit: number;
  ttlMs: number;
  /** 0: no block. */
  blockMs: number;
}

interface WindowEntry {
  pair: number;
  /** Usually one: routes may override a policy's limit or length for the same window. */
  kinds: ChargeKind[];
}

/**
 * The consume script's reply: four numbers per window, the verdicts ("1" or "0" per request) and
 * Redis's time; or `['late', time]` when Redis ran the call after its deadline (nothing changed).
 */
type ConsumeReply = (number | string)[];

const ONE = '1'.charCodeAt(0);

/** Requests per script call: bounds how long one call keeps Redis busy (the script decides each in Lua). */
export const MAX_REQUESTS_PER_CONSUME_CALL = 64;

/**
 * Coalesces the rate-limit decisions of the requests a process handles in one event-loop turn into
 * one consume script call per cluster slot (why: docs/decisions/006-batched-rate-limit-decisions.md).
 *
 * Requests are queued until `setImmediate` (the end of the current I/O phase) and sent as one call;
 * while a slot has a call in flight, its requests wait for that call to return and go out together
 * at the end of the next I/O phase after it, so a busy slot makes at most one call every other
 * event-loop turn. Invariant: batching changes the cost, never a decision;
 * the script decides the requests one after the other, each all-or-nothing, exactly as separate
 * calls would (the spec checks this against a one-at-a-time model on random batches). A failed call
 * fails every request in it, and each falls back by its own policy, as it would have alone.
 */
export class ConsumeBatcher {
  /**
   * This turn's requests by slot. Replaced by a new map at every flush, never emptied with `clear()`:
   * a cleared long-lived Map keeps settled requests reachable until a full GC (decision 006).
   */
  private queues = new Map<number, PendingConsume[]>();

  private readonly deadlines: ScriptDeadlines;

  constructor(
    private readonly redis: RedisClient,
    private readonly maxRequestsPerCall = MAX_REQUESTS_PER_CONSUME_CALL,
  ) {
    this.deadlines = ScriptDeadlines.of(redis);
  }

  /** Slots with a call in flight, by number of calls: their next requests wait for it to return. */
  private readonly busy = new Map<number, number>();
  private flushScheduled = false;
  private readonly flushNow = () => this.flush();
  /** Slots whose call just returned: what waits for them goes out after the next I/O phase (see release), not in a flush. */
  private readonly deferred = new Set<number>();

  /** Decides `charges` (all in cluster slot `slot`; any number on a single Redis) with the next call. */
  consume(slot: number, charges: readonly RateLimitCharge[], cost: number): Promise<RateLimitDecision> {
    return new Promise<RateLimitDecision>((resolve, reject) => {
      let queue = this.queues.get(slot);
      if (!queue) this.queues.set(slot, (queue = []));
      queue.push({ charges, cost, resolve, reject });
      // A busy or deferred slot is sent after its call returns (see release); otherwise at the end of this I/O phase.
      if (!this.busy.has(slot) && !this.deferred.has(slot) && !this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flushNow);
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const queues = this.queues;
    this.queues = new Map();
    for (const [slot, queue] of queues) {
      // At most one call in flight per slot: what arrives meanwhile goes in the next call, sent after
      // this one returns, so a busy process makes fewer, larger calls.
      if (this.busy.has(slot) || this.deferred.has(slot)) this.queues.set(slot, queue);
      else this.send(slot, queue);
    }
  }

  private send(slot: number, queue: readonly PendingConsume[]): void {
    for (let start = 0; start < queue.length; start += this.maxRequestsPerCall) {
      this.busy.set(slot, (this.busy.get(slot) ?? 0) + 1);
      void this.call(slot, queue.slice(start, start + this.maxRequestsPerCall)).finally(() => this.release(slot));
    }
  }

  private release(slot: number): void {
    const calls = (this.busy.get(slot) ?? 1) - 1;
    if (calls > 0) {
      this.busy.set(slot, calls);
      return;
    }
    this.busy.delete(slot);
    if (!this.queues.has(slot)) return;
    // Under load a reply arrives in an I/O phase that is still reading requests: those of this phase
    // and the next join the waiting ones, so the slot makes one call every other turn, not one per
    // turn, for at most one turn of added wait (docs/decisions/006-batched-rate-limit-decisions.md).
    // Only this slot waits: the other slots' requests still go out at the end of their I/O phase.
    this.deferred.add(slot);
    setImmediate(() => setImmediate(() => this.sendDeferred(slot)));
  }

  private sendDeferred(slot: number): void {
    this.deferred.delete(slot);
    const queue = this.queues.get(slot);
    if (!queue) return;
    this.queues.delete(slot);
    this.send(slot, queue);
  }

  private async call(slot: number, batch: readonly PendingConsume[]): Promise<void> {
    // Each window's keys are sent once per call, and each charge kind (window, limit, length) once:
    // a request carries only its cost and kind indexes. Looked up by policy, then tracker, so the
    // keys are built once per window, not once per request.
    const keys: string[] = [];
    const kinds: ChargeKind[] = [];
    const windows = new Map<string, Map<string, WindowEntry>>();
    const requestNumbers: number[] = [];
    /** The kind of every charge of the batch, in order: to replay the counts from the verdicts. */
    const chargeKinds: ChargeKind[] = [];
    for (const { charges, cost } of batch) {
      requestNumbers.push(cost, charges.length);
      for (const charge of charges) {
        const { tracker, limit, ttlMs, blockMs = 0 } = charge;
        const policy = windowOf(charge);
        let byTracker = windows.get(policy);
        if (!byTracker) windows.set(policy, (byTracker = new Map<string, WindowEntry>()));
        let window = byTracker.get(tracker);
        if (window === undefined) {
          const { counter, reported } = rateLimitKeys(tracker, policy);
          window = { pair: keys.push(counter, reported) / 2, kinds: [] };
          byTracker.set(tracker, window);
        }
        let kind = window.kinds.find((k) => k.limit === limit && k.ttlMs === ttlMs && k.blockMs === blockMs);
        if (kind === undefined) {
          kind = { index: kinds.length + 1, pair: window.pair, limit, ttlMs, blockMs };
          kinds.push(kind);
          window.kinds.push(kind);
        }
        requestNumbers.push(kind.index);
        chargeKinds.push(kind);
      }
    }
    const kindNumbers: number[] = [kinds.length];
    for (const { pair, limit, ttlMs, blockMs } of kinds) kindNumbers.push(pair, limit, ttlMs, blockMs);
    const numbers = `${kindNumbers.join(' ')} ${requestNumbers.join(' ')}`;

    let reply: ConsumeReply;
    try {
      reply = await this.deadlines.run<ConsumeReply>(CONSUME_RATE_LIMIT_SCRIPT, this.deadlines.nodeOf(slot), keys, [numbers]);
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    this.settle(batch, chargeKinds, keys.length / 2, reply);
  }

  /**
   * Resolves each request from the script's reply: the verdicts are Redis's; the counts each request
   * saw are replayed from the windows' counts before the call, in the order the script decided them,
   * and so are the blocks: one in force from the start, or started by the denial that exceeded a
   * limit with a block length (a blocked outcome reports its whole limit spent and the block's end).
   */
  private settle(batch: readonly PendingConsume[], chargeKinds: readonly ChargeKind[], pairs: number, reply: ConsumeReply): void {
    // 1-based by pair, like the script's KEYS pairs.
    const count = [0];
    const resetMs = [0];
    const reportable = [false];
    const blockedMs = [0];
    for (let p = 0; p < pairs; p++) {
      count.push(reply[4 * p] as number);
      resetMs.push(Math.max(0, reply[4 * p + 1] as number));
      reportable.push(reply[4 * p + 2] === 1);
      blockedMs.push(reply[4 * p + 3] as number);
    }
    const verdicts = reply[4 * pairs] as string;
    let at = 0;
    for (let r = 0; r < batch.length; r++) {
      const { charges, cost, resolve } = batch[r];
      const admitted = verdicts.charCodeAt(r) === ONE;
      const outcomes: RateLimitOutcome[] = [];
      let blocking: ChargeKind[] | undefined;
      for (let i = 0; i < charges.length; i++) {
        const kind = chargeKinds[at + i];
        const { pair, limit, ttlMs, blockMs } = kind;
        const { policy, tracker } = charges[i];
        if (blockedMs[pair] > 0) {
          outcomes.push({ policy, tracker, limit, ttlMs, count: limit, resetMs: blockedMs[pair], denied: true, firstDenial: false });
          continue;
        }
        const before = count[pair];
        if (!admitted && blockMs > 0 && before + cost > limit) {
          (blocking ??= []).push(kind);
          const firstDenial = reportable[pair];
          reportable[pair] = false;
          outcomes.push({ policy, tracker, limit, ttlMs, count: limit, resetMs: blockMs, denied: true, firstDenial });
          continue;
        }
        // A window without hits starts with this request's hit: its reset is a whole window away.
        const reset = before > 0 ? resetMs[pair] : ttlMs;
        const denied = !admitted && before + cost > limit;
        const firstDenial = denied && reportable[pair];
        if (firstDenial) reportable[pair] = false;
        outcomes.push({ policy, tracker, limit, ttlMs, count: before, resetMs: reset, denied, firstDenial });
      }
      if (blocking) {
        for (const { pair, blockMs } of blocking) {
          blockedMs[pair] = blockMs;
          count[pair] = 0;
        }
      }
      if (admitted) {
        for (let i = 0; i < charges.length; i++) {
          const { pair, ttlMs } = chargeKinds[at + i];
          if (count[pair] === 0) resetMs[pair] = ttlMs;
          outcomes[i].count = count[pair] += cost;
        }
      }
      at += charges.length;
      resolve({ admitted, outcomes });
    }
  }
}
