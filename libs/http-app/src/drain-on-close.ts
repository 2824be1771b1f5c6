import type { Server } from 'node:http';

import type { INestApplication } from '@nestjs/common';

/** How long a closing server waits for the requests under way before it closes their connections. */
export const SHUTDOWN_DRAIN_MS = 10_000;
/** How often a closing server closes the connections that have become idle. */
const IDLE_SWEEP_MS = 100;

/**
 * Makes closing the app's server (Nest's shutdown, on SIGTERM) finish once the requests under way
 * are answered. Node's `server.close()` closes only the connections idle at that moment; a
 * keep-alive connection that was carrying a request stays open after its answer, for the
 * keep-alive timeout, and keeps serving new requests on it, so the process outlived the grace
 * period of `docker stop` and Kubernetes and was killed. While closing, requests that still arrive
 * are answered with `Connection: close`, connections are closed as soon as they are idle, and after
 * {@link SHUTDOWN_DRAIN_MS} the remaining ones are closed too. Nothing is added per request before.
 */
export function drainOnClose(app: INestApplication, drainMs = SHUTDOWN_DRAIN_MS): void {
  const server = app.getHttpServer() as Server;
  const close = server.close.bind(server);
  server.close = (callback?: (error?: Error) => void): Server => {
    // Before Express's listener: a request it answers in the same tick (an unknown path's 404, a
    // CORS preflight) has sent its headers by then, and setting one would throw out of the server.
    server.prependListener('request', (_req, res) => res.setHeader('connection', 'close'));
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const deadline = setTimeout(() => server.closeAllConnections(), drainMs);
    sweep.unref();
    deadline.unref();
    return close((error?: Error) => {
      clearInterval(sweep);
      clearTimeout(deadline);
      callback?.(error);
    });
  };
}
