import type { Server } from 'node:http';

import type { INestApplication } from '@nestjs/common';

/**
 * How long an idle client connection stays open. Longer than the idle timeout of whatever pools
 * connections in front of an app (the gateway's upstream pool, a load balancer's 60 s), so the
 * client side always closes an idle connection first and never sends a request on one the server
 * is closing at that moment.
 */
export const SERVER_KEEP_ALIVE_TIMEOUT_MS = 65_000;

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * How often Node looks for requests past their timeout. Node's default (30 s) would let a request
 * outlive a 30 s limit by as much again; the check walks only the connections with a request in
 * progress. Takes effect where the server is created (ExpressHttpAdapter).
 */
export const CONNECTIONS_CHECKING_INTERVAL_MS = 1_000;

/**
 * Timeouts of an app's HTTP server. `requestTimeout` bounds the whole request, from its first byte
 * to the end of its body: a client that sends more slowly is answered 408 and its connection
 * closed, which also ends what the gateway had forwarded of it. `headersTimeout` is the same:
 * Node stretches the request deadline to a longer headers timeout (seen on Node 20; it refuses the
 * pair only when both are passed to `createServer`). Neither runs on an idle kept-alive connection:
 * their clock starts at a request's first byte.
 */
export function applyServerTimeouts(app: INestApplication, requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): void {
  const server = app.getHttpServer() as Server;
  server.keepAliveTimeout = SERVER_KEEP_ALIVE_TIMEOUT_MS;
  server.requestTimeout = requestTimeoutMs;
  server.headersTimeout = requestTimeoutMs;
}
