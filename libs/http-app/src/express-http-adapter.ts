import * as http from 'node:http';

import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';

import { CONNECTIONS_CHECKING_INTERVAL_MS } from './server-timeouts';

/**
 * Request and response classes that carry Express's prototypes (`app.request`, `app.response`)
 * from the moment Node creates them, as subclasses of Node's own so V8 keeps their objects in fast
 * mode (docs/decisions/001). Call once per Express app, before it serves requests.
 */
export function expressMessageTypes(app: Express): Pick<http.ServerOptions, 'IncomingMessage' | 'ServerResponse'> {
  class ExpressRequest extends http.IncomingMessage {}
  class ExpressResponse extends http.ServerResponse {}
  app.request = adoptPrototype(ExpressRequest.prototype, app.request);
  app.response = adoptPrototype(ExpressResponse.prototype, app.response);
  // Node's typing of the option is generic in the request type; these are for the default one.
  return { IncomingMessage: ExpressRequest, ServerResponse: ExpressResponse as typeof http.ServerResponse };
}

/** Makes `prototype` stand in for `expressPrototype`: the same prototype chain and own properties. */
function adoptPrototype<T extends object>(prototype: object, expressPrototype: T): T {
  Object.setPrototypeOf(prototype, Object.getPrototypeOf(expressPrototype) as object | null);
  Object.defineProperties(prototype, Object.getOwnPropertyDescriptors(expressPrototype));
  return prototype as T;
}

/**
 * Nest's Express adapter, except that Node creates requests and responses with Express's
 * prototypes already in place: Express's per-request `Object.setPrototypeOf` then changes nothing,
 * and V8 can share hidden classes between requests (why and how much: docs/decisions/001).
 * HTTPS servers and `forceCloseConnections` keep Nest's own server (TLS ends at the load balancer).
 */
export class ExpressHttpAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    if (options?.httpsOptions || options?.forceCloseConnections) {
      super.initHttpServer(options);
      return;
    }
    const app = this.getInstance<Express>();
    this.setHttpServer(
      http.createServer({ ...expressMessageTypes(app), connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS }, app),
    );
  }
}
