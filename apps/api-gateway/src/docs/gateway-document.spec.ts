import type { OpenAPIObject } from '@nestjs/swagger';

import { composeGatewayDocument } from './gateway-document';

const error = { type: 'object', properties: { statusCode: { type: 'integer' } } };

function serviceDocument(paths: OpenAPIObject['paths'], schemas: Record<string, object> = {}): OpenAPIObject {
  return { openapi: '3.0.0', info: { title: 's', version: '1' }, paths, components: { schemas: { Error: error, ...schemas } } };
}

const ok = { get: { operationId: 'C_get', responses: { 200: { description: '' } } } };

describe('composeGatewayDocument', () => {
  const own = serviceDocument({ '/health': ok });

  it('keeps only the paths the gateway routes to the service, under /api', () => {
    const composed = composeGatewayDocument(own, [
      {
        service: 'auth',
        routes: ['/me'],
        document: serviceDocument({ '/me': ok, '/me/sessions': ok, '/meta': ok, '/.well-known/jwks.json': ok }),
      },
    ]);
    expect(Object.keys(composed.paths).sort()).toEqual(['/api/me', '/api/me/sessions', '/health']);
    expect(composed.paths['/api/me'].get?.operationId).toBe('auth_C_get');
  });

  it('adds the answers of the gateway: rate-limit headers on each, 429, 502, 503, 504', () => {
    const composed = composeGatewayDocument(own, [{ service: 'auth', routes: ['/me'], document: serviceDocument({ '/me': ok }) }]);
    const responses = composed.paths['/api/me'].get!.responses as Record<string, { headers?: Record<string, { required?: boolean }> }>;
    expect(Object.keys(responses).sort()).toEqual(['200', '429', '502', '503', '504']);
    expect(responses[200].headers?.['X-RateLimit-Remaining']?.required).toBe(true);
    expect(responses[429].headers?.['Retry-After']?.required).toBe(true);
    // A fail-closed budget refuses before it counts: no rate-limit headers promised on 503.
    expect(responses[503].headers?.['X-RateLimit-Remaining']).toBeUndefined();
    // The gateway's own routes are not rate limited.
    expect(composed.paths['/health'].get?.responses[200]).toEqual({ description: '' });
  });

  it('refuses two services defining one schema name differently', () => {
    expect(() =>
      composeGatewayDocument(own, [
        { service: 'a', routes: ['/a'], document: serviceDocument({}, { Account: { type: 'object' } }) },
        { service: 'b', routes: ['/b'], document: serviceDocument({}, { Account: { type: 'string' } }) },
      ]),
    ).toThrow(/Account of b differs/);
  });
});
