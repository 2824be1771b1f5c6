import type { IncomingMessage } from 'node:http';

import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request } from 'express';

import { clientIp, GATEWAY_SIGNATURE_HEADER, signGatewayRequest } from '@nest-hardening/client-ip';

/** Headers a client must not be able to pass to a service: the gateway decides these. */
export const CLIENT_HEADERS_DROPPED = [
  'forwarded',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-real-ip',
  GATEWAY_SIGNATURE_HEADER,
];

/** Express app setting that holds the secret the gateway signs forwarded headers with. */
const GATEWAY_SECRET_SETTING = 'gateway secret';

/** Gives the gateway's Express app the secret {@link forwardedHeaders} signs with (GATEWAY_SECRET). */
export function useGatewaySecret(app: INestApplication, secret: string): void {
  (app as NestExpressApplication).set(GATEWAY_SECRET_SETTING, secret);
}

/**
 * The headers the gateway sets on every proxied request: the client address it resolved
 * (trusted-proxy aware, replacing anything the client sent), the protocol, and
 * `X-Gateway-Signature`, which lets a service tell these from headers anyone else could send. The
 * signature covers the method and `path`, the request target exactly as it is sent to the service.
 */
export function forwardedHeaders(req: IncomingMessage, path: string): Record<string, string> {
  const request = req as Request;
  const headers: Record<string, string> = {
    'x-forwarded-for': clientIp(request),
    'x-forwarded-proto': request.protocol ?? 'http',
  };
  const secret = request.app?.get(GATEWAY_SECRET_SETTING) as string | undefined;
  if (secret !== undefined) {
    headers[GATEWAY_SIGNATURE_HEADER] = signGatewayRequest(secret, {
      method: request.method,
      path,
      forwardedFor: headers['x-forwarded-for'],
      forwardedProto: headers['x-forwarded-proto'],
    });
  }
  return headers;
}
