import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { NestApplicationOptions } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Express } from 'express';

// Node's IncomingMessage and ServerResponse are ES5 constructor functions: callable on an object
// that already has its prototype (the typings only describe them as classes).
const initIncomingMessage = http.IncomingMessage as unknown as (this: object, socket: Socket) => void;
const initServerResponse = http.ServerResponse as unknown as (this: object, req: http.IncomingMessage, options?: object) => void;

/**
 * Request and response constructors whose objects carry Express's prototypes (`app.request`,
 * `app.response`) from the moment Node creates them.
 */
export function expressMessageTypes(app: Express): Pick<http.ServerOptions, 'IncomingMessage' | 'ServerResponse'> {
  function ExpressRequest(this: object, socket: Socket): void {
    initIncomingMessage.call(this, socket);
  }
  ExpressRequest.prototype = app.request;
  function ExpressResponse(this: object, req: http.IncomingMessage, options?: object): void {
    initServerResponse.call(this, req, options);
  }
  ExpressResponse.prototype = app.response;
  return {
    IncomingMessage: ExpressRequest as unknown as typeof http.IncomingMessage,
    ServerResponse: ExpressResponse as unknown as typeof http.ServerResponse,
  };
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
