import { GATEWAY_SIGNATURE_HEADER, signGatewayRequest } from '@nest-hardening/client-ip';

/**
 * The headers the gateway would set on a request it forwards to a service: a test that calls a
 * service directly as if through the gateway (with a client address of its choosing) sends these.
 * `path` is what the service receives (no `/api`), query included.
 */
export function gatewaySignedHeaders(
  secret: string,
  method: string,
  path: string,
  forwardedFor: string,
  forwardedProto = 'http',
): Record<string, string> {
  return {
    'x-forwarded-for': forwardedFor,
    'x-forwarded-proto': forwardedProto,
    [GATEWAY_SIGNATURE_HEADER]: signGatewayRequest(secret, { method, path, forwardedFor, forwardedProto }),
  };
}
