import { Logger, type INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

import { GATEWAY_SIGNATURE_HEADER, verifyGatewaySignature } from './gateway-signature';
import { checkGatewayTrustOptions } from './gateway-trust-options.check';

/** The client address a verified gateway signature vouched for; `null` when the request carried none. */
export const GATEWAY_CLIENT = Symbol('gatewayClient');

export interface GatewayTrustOptions {
  /** The secret shared with the gateway (`GATEWAY_SECRET`), at least 32 characters. */
  secret: string;
  /** During a rotation of that secret, its other value (`GATEWAY_SECRET_PREVIOUS`): signatures made with either verify. */
  previousSecret?: string;
  /** How old (or how far ahead) a signature may be: the replay window, 1000 to 300000 ms. */
  maxAgeMs: number;
}

type GatewayTrustedRequest = Request & { [GATEWAY_CLIENT]?: string | null };

/** At most one warning per this interval: anyone can send a bad signature, the log must not flood. */
const WARN_INTERVAL_MS = 60_000;

/**
 * Makes a service believe `X-Forwarded-For` only from the gateway: a request whose
 * `X-Gateway-Signature` verifies (see {@link verifyGatewaySignature}) gets the forwarded address as
 * its client address ({@link clientIp}); any other request keeps its socket address, whatever
 * headers it sent. Runs once per request, before any guard. Install on services, not on the gateway.
 * Throws, naming the option, on a secret under 32 characters or a `maxAgeMs` outside 1000–300000.
 */
export function trustGatewaySignatures(app: INestApplication, options: GatewayTrustOptions): void {
  checkGatewayTrustOptions(options);
  const { secret, previousSecret, maxAgeMs } = options;
  const secrets = previousSecret ? [secret, previousSecret] : [secret];
  const logger = new Logger('GatewayTrust');
  let lastWarning = 0;
  app.use((req: GatewayTrustedRequest, _res: Response, next: NextFunction) => {
    const header = req.headers[GATEWAY_SIGNATURE_HEADER];
    const forwardedFor = req.headers['x-forwarded-for'];
    const forwardedProto = req.headers['x-forwarded-proto'];
    const signed =
      typeof header === 'string' &&
      typeof forwardedFor === 'string' &&
      typeof forwardedProto === 'string' &&
      secrets.some((s) =>
        verifyGatewaySignature(s, header, { method: req.method, path: req.originalUrl, forwardedFor, forwardedProto }, maxAgeMs),
      );
    // Set on every request, so that requests keep one shape.
    req[GATEWAY_CLIENT] = signed ? forwardedFor : null;
    // A secret that differs from the gateway's would judge every client by the gateway's address.
    if (!signed && header !== undefined && Date.now() - lastWarning > WARN_INTERVAL_MS) {
      lastWarning = Date.now();
      logger.warn({
        event: 'gateway_signature_invalid',
        reason:
          'X-Gateway-Signature did not verify (GATEWAY_SECRET differs, clocks apart by more than the max age, or forged): the socket address is used',
      });
    }
    next();
  });
}

/** The client address vouched for by a verified gateway signature, if the request carried one. */
export function gatewayClient(req: Request): string | undefined {
  return (req as GatewayTrustedRequest)[GATEWAY_CLIENT] ?? undefined;
}

/** Whether the request came through the gateway, proven by its signature (the gateway charged its budgets). */
export function isGatewayRequest(req: Request): boolean {
  return typeof (req as GatewayTrustedRequest)[GATEWAY_CLIENT] === 'string';
}
