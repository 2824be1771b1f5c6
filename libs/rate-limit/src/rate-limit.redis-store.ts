import { Injectable } from '@nestjs/common';

import { InjectRedis, redisKeySlot, type RedisClient } from '@nest-hardening/redis';

import { ConsumeBatcher } from './rate-limit.consume-batcher';
import { rateLimitKeys, windowOf } from './rate-limit.keys';
import type { RateLimitCharge, RateLimitDecision, RateLimitOutcome, RateLimitStore } from './rate-limit.store.interface';
import { MOVE_TO_MALFORMED_SCRIPT } from './scripts/malformed.script';
import { REFUND_RATE_LIMIT_SCRIPT } from './scripts/refund.script';

/** The batching key on a single Redis, where every key can share a script call. */
const ANY_SLOT = -1;

/** The outcomes of charges a failed slot could not decide: nothing spent, nothing refused. */
function unspent(charges: readonly RateLimitCharge[]): RateLimitDecision {
  return {
    admitted: false,
    outcomes: charges.map(({ policy, tracker, limit, ttlMs }) => ({
      policy,
      tracker,
      limit,
      ttlMs,
      count: 0,
      resetMs: ttlMs,
      denied: false,
      firstDenial: false,
    })),
  };
}

interface SlotGroup {
  slot: number;
  indexes: number[];
  charges: RateLimitCharge[];
}

/**
 * Exact, shared rate limiting in Redis: one consume script call checks and charges every policy of
 * a request, shared with the other requests of the same event-loop turn (see `ConsumeBatcher`), so
 * a request costs at most one round trip.
 *
 * On a Redis Cluster, charges whose trackers hash to different slots cannot share a script. Then
 * one script runs per slot (in parallel) and, if any slot denies, the slots that admitted are
 * refunded, so the request is still all-or-nothing. Between charge and refund a concurrent request
 * may see the extra hit and be denied: the error is on the safe side. On a single Redis every
 * charge goes into one script. (The stock `ThrottlerGuard` is served by `RedisThrottlerStorage`.)
 */
@Injectable()
export class RedisRateLimitStore implements RateLimitStore {
  private readonly batcher: ConsumeBatcher;

  constructor(@InjectRedis() private readonly redis: RedisClient) {
    this.batcher = new ConsumeBatcher(redis);
  }

  consume(charges: readonly RateLimitCharge[], cost = 1): Promise<RateLimitDecision> {
    if (charges.length === 0) return Promise.resolve({ admitted: true, outcomes: [] });
    if (!this.redis.isCluster) return this.batcher.consume(ANY_SLOT, charges, cost);
    return this.consumeAcrossSlots(charges, cost);
  }

  /** Cluster: one call per slot the charges hash to, refunded if any slot denies. */
  private async consumeAcrossSlots(charges: readonly RateLimitCharge[], cost: number): Promise<RateLimitDecision> {
    const groups = this.groupBySlot(charges);
    const settled = await Promise.allSettled(groups.map((group) => this.batcher.consume(group.slot, group.charges, cost)));
    // The slots that admitted give their units back when another slot denied or failed: a request
    // is charged everywhere or nowhere.
    const refundAdmitted = () =>
      settled.flatMap((result, g) =>
        result.status === 'fulfilled' && result.value.admitted ? [this.refund(groups[g].charges, cost, result.value.outcomes)] : [],
      );
    const failed = settled.find((result) => result.status === 'rejected');
    const refused = settled.some((result) => result.status === 'fulfilled' && !result.value.admitted);
    if (failed || refused) {
      const refunds = refundAdmitted();
      // After a failed slot the refunds are best effort: the request is already answered by the failure.
      await (failed ? Promise.allSettled(refunds) : Promise.all(refunds));
    }
    // Undecided only when no live slot refused: a refusal Redis made is never left to the outage
    // policy, whose empty in-memory window would admit the request.
    if (failed && !refused) throw failed.reason;
    const results = settled.map((result, g) => (result.status === 'fulfilled' ? result.value : unspent(groups[g].charges)));
    const admitted = !failed && !refused;
    const outcomes = new Array<RateLimitOutcome>(charges.length);
    groups.forEach((group, g) => group.indexes.forEach((index, i) => (outcomes[index] = results[g].outcomes[i])));
    return failed ? { admitted, outcomes, unreachable: failed.reason } : { admitted, outcomes };
  }

  /**
   * The refunds of the malformed request's own tracker move atomically with the malformed charge;
   * refunds of other trackers (a global budget lives in another cluster slot) follow only once the
   * move is done.
   */
  async moveToMalformed(refunds: readonly RateLimitCharge[], malformed: RateLimitCharge): Promise<boolean> {
    const own = refunds.filter((charge) => charge.tracker === malformed.tracker);
    const others = refunds.filter((charge) => charge.tracker !== malformed.tracker);
    const keys = [malformed, ...own].map((charge) => rateLimitKeys(charge.tracker, windowOf(charge)).counter);
    const moved = (await MOVE_TO_MALFORMED_SCRIPT.run<number>(this.redis, keys, [malformed.limit, malformed.ttlMs])) === 1;
    if (moved) {
      await Promise.all(
        others.map((charge) => REFUND_RATE_LIMIT_SCRIPT.run(this.redis, [rateLimitKeys(charge.tracker, windowOf(charge)).counter], [1])),
      );
    }
    return moved;
  }

  private groupBySlot(charges: readonly RateLimitCharge[]): SlotGroup[] {
    const prefix = this.redis.options.keyPrefix ?? '';
    const bySlot = new Map<number, SlotGroup>();
    charges.forEach((charge, index) => {
      const slot = redisKeySlot(prefix + rateLimitKeys(charge.tracker, windowOf(charge)).counter);
      const group = bySlot.get(slot) ?? { slot, indexes: [], charges: [] };
      group.indexes.push(index);
      group.charges.push(charge);
      bySlot.set(slot, group);
    });
    return [...bySlot.values()];
  }

  private async refund(charges: readonly RateLimitCharge[], cost: number, outcomes: RateLimitOutcome[]): Promise<void> {
    const keys = charges.map((charge) => rateLimitKeys(charge.tracker, windowOf(charge)).counter);
    await REFUND_RATE_LIMIT_SCRIPT.run(this.redis, keys, [cost]);
    for (const outcome of outcomes) outcome.count = Math.max(0, outcome.count - cost);
  }
}
