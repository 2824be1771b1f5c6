import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** Header by which the gateway proves that it set a request's `X-Forwarded-For` and `X-Forwarded-Proto`. */
export const GATEWAY_SIGNATURE_HEADER = 'x-gateway-signature';

/** What the gateway vouches for: the request as the service receives it and the client it resolved. */
export interface GatewaySignedFields {
  method: string;
  /** The request target as the service sees it (the gateway's path without `/api`, query included). */
  path: string;
  forwardedFor: string;
  forwardedProto: string;
}

const SIGNATURE = /^t=(\d{1,15}),v1=([A-Za-z0-9_-]{43})$/;

function mac(secret: string, timestamp: string, fields: GatewaySignedFields): Buffer {
  // Newlines cannot occur in a method, a request target or a header value, so the fields cannot run into each other.
  const payload = `v1\n${timestamp}\n${fields.method.toUpperCase()}\n${fields.path}\n${fields.forwardedFor}\n${fields.forwardedProto}`;
  return createHmac('sha256', secret).update(payload).digest();
}

/**
 * The `X-Gateway-Signature` value for a request: `t=<unix ms>,v1=<base64url HMAC-SHA256>`.
 *
 * @example
 * proxyReq.setHeader(GATEWAY_SIGNATURE_HEADER, signGatewayRequest(secret, { method, path, forwardedFor, forwardedProto }));
 */
export function signGatewayRequest(secret: string, fields: GatewaySignedFields, now = Date.now()): string {
  const timestamp = String(now);
  return `t=${timestamp},v1=${mac(secret, timestamp, fields).toString('base64url')}`;
}

/**
 * Whether `header` is a signature of `fields` by the holder of `secret`, made at most `maxAgeMs`
 * ago (or ahead). The MAC is compared in constant time; the forwarded address must be one IP.
 */
export function verifyGatewaySignature(
  secret: string,
  header: string | undefined,
  fields: GatewaySignedFields,
  maxAgeMs: number,
  now = Date.now(),
): boolean {
  if (header === undefined || isIP(fields.forwardedFor) === 0) return false;
  const match = SIGNATURE.exec(header);
  if (!match) return false;
  if (Math.abs(now - Number(match[1])) > maxAgeMs) return false;
  return timingSafeEqual(Buffer.from(match[2], 'base64url'), mac(secret, match[1], fields));
}
