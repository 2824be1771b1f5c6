import { ReplyError as ReplyErrorValue } from 'ioredis';

import { DependencyUnavailableError } from '@nest-hardening/errors';

// ioredis types its re-export of redis-errors' class as `any`.
const ReplyError = ReplyErrorValue as new (...args: never[]) => Error;

/**
 * Error replies that mean "not now" (a failover, a restart, a busy script, a server full under
 * `noeviction` until memory is freed or added), not a wrong command.
 */
const TRANSIENT_REPLIES = new Set(['CLUSTERDOWN', 'LOADING', 'MASTERDOWN', 'READONLY', 'TRYAGAIN', 'BUSY', 'OOM']);

/**
 * A script that touched a key of a slot being moved to another Cluster node (a key it computes
 * rather than declares, e.g. an evicted session's): transient, like TRYAGAIN, until the move ends.
 */
const MOVING_SLOT = /^ERR Script attempted to access a non local key/;

/** The error code of a Redis error reply: its first word (RESP error convention). */
export function replyCode(error: Error): string {
  return error.message.split(' ', 1)[0];
}

/**
 * What a failed Redis call means for the caller: a non-transient error reply (wrong type, a script
 * error) is a bug and stays as it is; anything else (no connection, timeout, failover) is the
 * dependency being unavailable, answered 503 by the error filter.
 */
export function redisFailure(error: unknown): unknown {
  if (isReplyError(error) && !TRANSIENT_REPLIES.has(replyCode(error)) && !MOVING_SLOT.test(error.message)) return error;
  return new DependencyUnavailableError('redis', error);
}

/** An error reply from the server (as opposed to a client-side failure: no connection, timeout). */
export function isReplyError(error: unknown): error is Error {
  return error instanceof ReplyError;
}

/** Runs one Redis call, translating its failure with {@link redisFailure}. */
export async function redisCall<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw redisFailure(error);
  }
}
