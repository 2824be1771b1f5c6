import { getSchemaPath, type OpenAPIObject, type ResponseObject, type ResponsesObject } from '@nestjs/swagger';

import { ErrorDto, operationsOf, RATE_LIMIT_HEADERS, required, RETRY_AFTER_HEADER, withErrorSchema } from '@nest-hardening/openapi';

/** Where the gateway mounts the services' routes. */
export const API_PREFIX = '/api';

/** A service's own document, and the path prefixes the gateway routes to that service. */
export interface ServiceDocument {
  service: string;
  /** Service paths the gateway proxies (`/auth` covers `/auth` and `/auth/...`); other paths stay internal. */
  routes: readonly string[];
  document: OpenAPIObject;
}

const errorBody = { 'application/json': { schema: { $ref: getSchemaPath(ErrorDto) } } };
const retryAfter = { 'Retry-After': { ...RETRY_AFTER_HEADER, required: true } };

/**
 * What the gateway adds to every answer of a proxied route: its own guards charge the `general`
 * budget before the request leaves (so every answer but a fail-closed 503 carries the rate-limit
 * headers), and it answers 429, 503, 502 and 504 itself.
 */
function addGatewayAnswers(responses: ResponsesObject): void {
  const rateLimited = required(RATE_LIMIT_HEADERS);
  for (const [status, response] of Object.entries(responses)) {
    if (status === '503' || !response || '$ref' in response) continue;
    response.headers = { ...response.headers, ...rateLimited };
  }
  const add = (status: number, response: ResponseObject) => (responses[status] ??= response);
  add(429, {
    description: 'a rate limit refused the request; wait `Retry-After` seconds',
    headers: { ...rateLimited, ...retryAfter },
    content: errorBody,
  });
  add(503, {
    description: 'a dependency (Redis, Postgres) is unavailable; retry after `Retry-After` seconds',
    headers: retryAfter,
    content: errorBody,
  });
  add(502, { description: 'the service behind the gateway is unreachable', headers: rateLimited, content: errorBody });
  add(504, { description: 'the service behind the gateway did not answer in time', headers: rateLimited, content: errorBody });
  const answered429 = responses[429];
  if (answered429 && !('$ref' in answered429)) answered429.headers = { ...answered429.headers, ...retryAfter };
}

/**
 * The gateway's document: its own routes (`/health`, `/metrics`) as they are, and every service
 * route the gateway proxies under `/api`, with the answers the gateway adds. Components are merged;
 * two services defining one schema name differently is a mistake this refuses to hide.
 */
export function composeGatewayDocument(own: OpenAPIObject, services: readonly ServiceDocument[]): OpenAPIObject {
  const composed: OpenAPIObject = structuredClone(own);
  const schemas = ((composed.components ??= {}).schemas ??= {});
  const securitySchemes = (composed.components.securitySchemes ??= {});
  for (const { service, routes, document } of services) {
    for (const [path, item] of Object.entries(document.paths)) {
      if (!routes.some((route) => path === route || path.startsWith(`${route}/`))) continue;
      const gatewayPath = `${API_PREFIX}${path}`;
      const copy = (composed.paths[gatewayPath] = structuredClone(item));
      for (const { operation } of operationsOf({ [gatewayPath]: copy })) {
        // Operation ids must be unique across the whole document.
        if (operation.operationId) operation.operationId = `${service}_${operation.operationId}`;
        addGatewayAnswers(operation.responses);
      }
    }
    for (const [name, schema] of Object.entries(structuredClone(document.components?.schemas ?? {}))) {
      if (schemas[name] && JSON.stringify(schemas[name]) !== JSON.stringify(schema)) {
        throw new Error(`OpenAPI schema ${name} of ${service} differs from another service's schema of that name`);
      }
      schemas[name] = schema;
    }
    Object.assign(securitySchemes, document.components?.securitySchemes);
  }
  return withErrorSchema(composed);
}
