import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

import { withErrorSchema } from './error-schema';

/** The path of a service's OpenAPI page; its JSON document is at `<path>-json`. */
export const DOCS_PATH = 'docs';

/**
 * Serves a service's OpenAPI document at `/docs` (Swagger UI) and `/docs-json`, where the gateway
 * reads it to compose its own. Call it only when the app's settings enable docs.
 */
export function serveServiceDocs(app: INestApplication, info: { title: string; description: string }): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder().setTitle(info.title).setDescription(info.description).addBearerAuth().build(),
  );
  SwaggerModule.setup(DOCS_PATH, app, withErrorSchema(document));
}
