import type { Server } from 'node:http';

import type { INestApplication } from '@nestjs/common';

/**
 * How long an idle client connection stays open. Longer than the idle timeout of whatever pools
 * connections in front of an app (the gateway's upstream pool, a load balancer's 60 s), so the
 * client side always closes an idle connection first and never sends a request on one the server
 * is closing at that moment.
 */
export const SERVER_KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * Keep-alive timeouts of an app's HTTP server. `headersTimeout` must exceed `keepAliveTimeout`, or
 * Node may drop a kept-alive connection while a new request's headers are arriving on it.
 */
export function applyServerTimeouts(app: INestApplication): void {
  const server = app.getHttpServer() as Server;
  server.keepAliveTimeout = SERVER_KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = SERVER_KEEP_ALIVE_TIMEOUT_MS + 1_000;
}
