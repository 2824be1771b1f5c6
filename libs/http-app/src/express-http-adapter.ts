import * as http from 'node:http';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';

/**
 * Request and response classes whose objects carry Express's prototypes (`app.request`,
 * `app.response`) from the moment Node creates them.
 *
 * Each is a subclass of Node's own (`class extends IncomingMessage {}`), so V8 sizes its objects
 * from Node's constructor and keeps their properties in fast mode. Its prototype object then takes
 * the place of Express's: it gets Express's prototype chain and own properties (`app`), and becomes
 * `app.request` / `app.response`. An ES5 function that called `ServerResponse.call(this)` instead
 * got objects with room for a few properties only: every response left fast mode while Node's
 * constructor filled it (a hash-table object; V8's `%HasFastProperties` is false), and each of
 * its property reads and writes in Node, Express, Nest and the guards became a dictionary lookup.
 * Call once per Express app, before it serves requests.
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
  Object.setPrototypeOf(prototype, Object.getPrototypeOf(expressPrototype));
  Object.defineProperties(prototype, Object.getOwnPropertyDescriptors(expressPrototype));
  return prototype as T;
}

/**
 * Nest's Express adapter with one change: Node creates requests and responses with Express's
 * prototypes already in place.
 *
 * Express gives each request and response its prototype at run time: `app.handle()` calls
 * `Object.setPrototypeOf(req, app.request)` (and the same for `res`) on objects Node created as
 * plain IncomingMessage and ServerResponse. V8 does not share hidden classes between objects whose
 * prototype was switched after creation: every property added to a request afterwards (Express's
 * `next`, `baseUrl` and `params`, Nest's and our `user`, ...) made a new hidden class, for every
 * request. Every property access on `req` and `res` in Express, Nest and this project then missed
 * its inline cache, and each request left hidden classes behind for the old generation (V8's
 * `--log-ic` showed one new map per request at every such access). With the prototype set at
 * creation, Express's `setPrototypeOf` finds the prototype it wants and changes nothing: the objects
 * have exactly the prototype chain Express would give them, created the way V8 can share.
 * A bare Express 5 route on the development machine served 2.5 to 3 times the requests per second.
 *
 * HTTPS servers and `forceCloseConnections` keep Nest's own server (these apps use neither: TLS
 * ends at the load balancer).
 */
export class ExpressHttpAdapter extends ExpressAdapter {
  override initHttpServer(options: NestApplicationOptions): void {
    if (options?.httpsOptions || options?.forceCloseConnections) {
      super.initHttpServer(options);
      return;
    }
    const app = this.getInstance<Express>();
    this.setHttpServer(http.createServer(expressMessageTypes(app), app));
  }
}
