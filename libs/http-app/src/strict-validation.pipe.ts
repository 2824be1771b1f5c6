import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';

import { RequestValidationError, UNKNOWN_PROPERTY_MESSAGE, UNKNOWN_QUERY_PARAMETER_MESSAGE } from './validation-errors';

/** The keys Nest's ValidationPipe deletes before class-transformer builds the DTO (they could reach a prototype). */
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'];

/** Whether a parsed body or query holds one of {@link PROTOTYPE_KEYS} as its own key, at any depth. */
function hasPrototypeKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (!Array.isArray(value) && PROTOTYPE_KEYS.some((key) => Object.hasOwn(value, key))) return true;
  // JSON and query values only: their depth is bounded by the body parser and the query parser.
  return Object.values(value).some(hasPrototypeKey);
}

/**
 * Nest's ValidationPipe, except that a `__proto__`, `constructor` or `prototype` key is refused like
 * any other unknown property (400). Nest deletes those keys before validating, so the whitelist
 * never saw them and the request was served as if they had not been sent. An unknown key of a query
 * DTO is called a query parameter, not a property of the body the request may not even have.
 */
export class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      if (metadata.type !== 'query' || !(error instanceof RequestValidationError)) throw error;
      throw new RequestValidationError(
        error.problems.map((problem) => (problem === UNKNOWN_PROPERTY_MESSAGE ? UNKNOWN_QUERY_PARAMETER_MESSAGE : problem)),
      );
    }
  }

  protected override stripProtoKeys(value: unknown): void {
    if (hasPrototypeKey(value)) throw new RequestValidationError([UNKNOWN_PROPERTY_MESSAGE]);
  }
}
