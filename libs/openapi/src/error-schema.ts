import { getSchemaPath, type OpenAPIObject, type OperationObject, type PathItemObject, type PathsObject } from '@nestjs/swagger';

import { ERROR_SCHEMA_NAME, ErrorDto } from './error.dto';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Every operation of a document's paths, with its path and method. */
export function operationsOf(paths: PathsObject): { path: string; method: (typeof METHODS)[number]; operation: OperationObject }[] {
  return Object.entries(paths).flatMap(([path, item]: [string, PathItemObject]) =>
    METHODS.filter((method) => item[method]).map((method) => ({ path, method, operation: item[method] as OperationObject })),
  );
}

/**
 * Gives every error answer of the document the one error schema and closes that schema. Every
 * error leaves through the one filter in `libs/errors`, so an error response declared without a
 * body (a bare `@ApiNotFoundResponse()`) still has this one; a field outside the schema would be a leak.
 */
export function withErrorSchema(document: OpenAPIObject): OpenAPIObject {
  const schemas = (document.components ??= {}).schemas ?? (document.components.schemas = {});
  const errorSchema = schemas[ERROR_SCHEMA_NAME];
  if (!errorSchema || '$ref' in errorSchema) throw new Error(`${ErrorDto.name} is not in the document: declare errors with @ApiErrors()`);
  errorSchema.additionalProperties = false;
  for (const { operation } of operationsOf(document.paths)) {
    for (const [status, response] of Object.entries(operation.responses)) {
      if (Number(status) < 400 || !response || '$ref' in response) continue;
      response.content ??= { 'application/json': { schema: { $ref: getSchemaPath(ErrorDto) } } };
    }
  }
  return document;
}
