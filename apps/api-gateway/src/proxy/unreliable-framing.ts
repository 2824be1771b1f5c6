import type { Socket } from 'node:net';

import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * Transfer-Encoding is HTTP/1.1's: a hop that speaks HTTP/1.0 reads no body in such a request, where
 * Node's server decodes chunks and, asked to keep the connection, reads what follows as the next
 * request. RFC 9112 §6.1: the framing is faulty and the connection must close after the message.
 * Node's parser also takes other HTTP/x.y request lines (HTTP/2.0 written as HTTP/1 text), which no
 * hop frames by HTTP/1.1's rules either.
 */
function isTransferEncodingOutsideHttp11(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined && !(req.httpVersionMajor === 1 && req.httpVersionMinor === 1);
}

/**
 * Node's server without an 'upgrade' listener (the gateway proxies HTTP only) serves an Upgrade
 * request as an ordinary one, but drops what arrived in the same read after its head and parses
 * the connection from the next read on: mid-message, where a body sent later reads as a request.
 */
function asksForUpgrade(req: Request): boolean {
  return req.headers.upgrade !== undefined;
}

/**
 * Ends, after their answer, the connections whose framing the gateway and another hop could read
 * differently: a request with Transfer-Encoding in any version but HTTP/1.1 is refused (400), an Upgrade request is
 * answered over HTTP/1.1 (RFC 9110 §7.8 lets a server ignore Upgrade); both with `Connection: close`.
 * A request Node parsed after such a one on the same connection may be bytes a front proxy sent as
 * a body: it is never served, and goes unanswered when the connection closes.
 */
export function endConnectionsOfUnreliableFraming(app: INestApplication): void {
  const ending = new WeakSet<Socket>();
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (ending.has(req.socket)) return;
    if (isTransferEncodingOutsideHttp11(req)) {
      ending.add(req.socket);
      res.setHeader('connection', 'close');
      res.status(400).json({ statusCode: 400, message: `HTTP/${req.httpVersion} request with Transfer-Encoding` });
      return;
    }
    if (asksForUpgrade(req)) {
      ending.add(req.socket);
      res.setHeader('connection', 'close');
    }
    next();
  });
}
