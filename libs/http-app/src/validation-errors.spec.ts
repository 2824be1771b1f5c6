import { IsOptional, IsString, ValidationError } from 'class-validator';

import { StrictValidationPipe } from './strict-validation.pipe';
import { RequestValidationError, UNKNOWN_PROPERTY_MESSAGE, UNKNOWN_QUERY_PARAMETER_MESSAGE, validationErrors } from './validation-errors';

function error(property: string, constraints: Record<string, string>, children: ValidationError[] = []): ValidationError {
  return Object.assign(new ValidationError(), { property, constraints, children });
}

describe('validationErrors', () => {
  it('answers an unknown property without naming it, and keeps the messages about declared fields', () => {
    const secret = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
    const response = validationErrors([
      error(secret, { whitelistValidation: `property ${secret} should not exist` }),
      error('other', { whitelistValidation: 'property other should not exist' }),
      error('email', { isEmail: 'email must be an email' }),
    ]).getResponse();
    expect(response).toEqual({ statusCode: 400, error: 'Bad Request', message: [UNKNOWN_PROPERTY_MESSAGE, 'email must be an email'] });
    expect(JSON.stringify(response)).not.toContain(secret);
  });

  it('prefixes nested messages with their path, as Nest does', () => {
    const response = validationErrors([
      error('address', {}, [
        error('city', { isString: 'city must be a string' }),
        error('x', { whitelistValidation: 'property x should not exist' }),
      ]),
    ]).getResponse();
    expect(response).toMatchObject({ message: ['address.city must be a string', UNKNOWN_PROPERTY_MESSAGE] });
  });
});

describe('StrictValidationPipe', () => {
  class ListQuery {
    @IsOptional()
    @IsString()
    cursor?: string;
  }
  const pipe = new StrictValidationPipe({ whitelist: true, forbidNonWhitelisted: true, exceptionFactory: validationErrors });
  const problems = async (value: unknown, type: 'body' | 'query') => {
    const error: unknown = await pipe.transform(value, { type, metatype: ListQuery }).catch((e: unknown) => e);
    return error instanceof RequestValidationError ? error.problems : error;
  };

  it('calls an unknown key of a query DTO a query parameter, and of a body a property of the body', async () => {
    expect(await problems({ cursor: 'a', sort: 'x' }, 'query')).toEqual([UNKNOWN_QUERY_PARAMETER_MESSAGE]);
    expect(await problems({ cursor: 'a', ['__proto__']: { a: 1 } }, 'query')).toEqual([UNKNOWN_QUERY_PARAMETER_MESSAGE]);
    expect(await problems({ cursor: 'a', sort: 'x' }, 'body')).toEqual([UNKNOWN_PROPERTY_MESSAGE]);
    expect(await problems({ cursor: 5 }, 'query')).toEqual(['cursor must be a string']);
  });
});
