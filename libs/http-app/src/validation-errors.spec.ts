import { ValidationError } from 'class-validator';

import { UNKNOWN_PROPERTY_MESSAGE, validationErrors } from './validation-errors';

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
