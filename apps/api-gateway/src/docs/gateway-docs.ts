import { Logger, type INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

import { failureReason } from '@nest-hardening/errors';
import { DOCS_PATH, ErrorDto, withErrorSchema } from '@nest-hardening/openapi';

import type { ApiGatewayConfig } from '../config/api-gateway.config';
import { composeGatewayDocument, type ServiceDocument } from './gateway-document';

interface ServiceSource {
  service: string;
  url: string;
  routes: readonly string[];
}

/** The service paths `GatewayController` proxies, by service. */
function serviceSources(config: ApiGatewayConfig): ServiceSource[] {
  return [
    { service: 'auth-service', url: config.AUTH_SERVICE_URL, routes: ['/auth', '/me', '/accounts'] },
    { service: 'profile-service', url: config.PROFILE_SERVICE_URL, routes: ['/profile'] },
  ];
}

/**
 * Each service's document, fetched from its `/docs-json` on the first request for the gateway's
 * docs and kept. A service that cannot be read is left out of that answer and asked again next time,
 * so a service started after the gateway appears without a restart.
 */
class ServiceDocuments {
  private readonly logger = new Logger('Docs');
  private readonly fetched = new Map<string, OpenAPIObject>();

  constructor(
    private readonly sources: readonly ServiceSource[],
    private readonly timeoutMs: number,
  ) {}

  async all(): Promise<ServiceDocument[]> {
    const documents = await Promise.all(this.sources.map(async (source) => ({ ...source, document: await this.read(source) })));
    return documents.filter((d): d is ServiceDocument & ServiceSource => d.document !== undefined);
  }

  private async read({ service, url }: ServiceSource): Promise<OpenAPIObject | undefined> {
    const known = this.fetched.get(service);
    if (known) return known;
    try {
      const res = await fetch(new URL(`/${DOCS_PATH}-json`, url), { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status} (is DOCS_ENABLED off there?)`);
      const document = (await res.json()) as OpenAPIObject;
      this.fetched.set(service, document);
      return document;
    } catch (error) {
      this.logger.warn(`OpenAPI document of ${service} unavailable: ${failureReason(error)}`);
      return undefined;
    }
  }
}

/**
 * Serves `/docs` (Swagger UI) and `/docs-json`: the gateway's own routes and every service route it
 * proxies, under `/api`. Outside the rate limiter and the token guard, like every service's /docs;
 * call it only when the settings enable docs.
 */
export function serveGatewayDocs(app: INestApplication, config: ApiGatewayConfig): void {
  const own = withErrorSchema(
    SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('API')
        .setDescription("Every route, as a client reaches it through the gateway: services under /api, the gateway's own beside them.")
        .addBearerAuth()
        .build(),
      { extraModels: [ErrorDto] },
    ),
  );
  const services = new ServiceDocuments(serviceSources(config), config.UPSTREAM_TIMEOUT_MS);
  SwaggerModule.setup(DOCS_PATH, app, own, {
    patchDocumentOnRequest: async (_req: unknown, _res: unknown, document: OpenAPIObject) =>
      composeGatewayDocument(document, await services.all()),
  });
}
