import type { ValidationError } from 'class-validator';

import { DomainError, type DomainErrorBody } from '@nest-hardening/errors';

/** What an unknown field is called in an answer: its name is the client's text, not ours. */
export const UNKNOWN_PROPERTY_MESSAGE = 'the body has a property that is not allowed';
/** The same for a query DTO, whose fields are query parameters. */
export const UNKNOWN_QUERY_PARAMETER_MESSAGE = 'the query has a parameter that is not allowed';

/** A body or query that fails its DTO's rules: 400 with every problem listed in `message`. */
export class RequestValidationError extends DomainError {
  readonly kind = 'invalid';

  constructor(readonly problems: readonly string[]) {
    // 'Bad Request' is the `error` Nest's own ValidationPipe answers with; clients may match on it.
    super('Bad Request', problems.join('; '));
  }

  override getResponse(): DomainErrorBody {
    return { ...super.getResponse(), message: [...this.problems] };
  }
}

/**
 * The ValidationPipe's 400, as Nest builds it (`{statusCode, message: string[], error}`), except
 * that an unknown property is not named: class-validator's "property <name> should not exist"
 * would echo whatever key the client sent. Messages about declared fields name only the DTO's own
 * properties and quote no values.
 */
export function validationErrors(errors: ValidationError[]): RequestValidationError {
  const messages = new Set<string>();
  const collect = (list: ValidationError[], parentPath: string) => {
    for (const error of list) {
      const path = parentPath ? `${parentPath}.${error.property}` : error.property;
      for (const [constraint, message] of Object.entries(error.constraints ?? {})) {
        messages.add(constraint === 'whitelistValidation' ? UNKNOWN_PROPERTY_MESSAGE : parentPath ? `${parentPath}.${message}` : message);
      }
      if (error.children?.length) collect(error.children, path);
    }
  };
  collect(errors, '');
  return new RequestValidationError([...messages]);
}
