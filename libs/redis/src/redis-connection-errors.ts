import type { RedisClient } from './redis-client.type';

/** Receives an error of one of a client's connections; `node` is the cluster node's `host:port`. */
export type RedisConnectionErrorListener = (error: Error, node?: string) => void;

/**
 * Calls `listener` for every error a connection of `client` reports, until the returned function is
 * called. A cluster client reports a node it cannot reach as 'node error' only, and stays ready
 * while the other nodes answer: listening to 'error' alone misses a dead master.
 */
export function onRedisConnectionError(client: RedisClient, listener: RedisConnectionErrorListener): () => void {
  const onError = (error: Error) => listener(error);
  const onNodeError = (error: Error, node: string) => listener(error, node);
  client.on('error', onError).on('node error', onNodeError);
  return () => {
    client.off('error', onError).off('node error', onNodeError);
  };
}
