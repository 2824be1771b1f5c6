import { Injectable, type PipeTransform } from '@nestjs/common';

import { InvalidAccountIdError } from './accounts.errors';

/** An account id as Postgres reads a `uuid`, in any case (the form Nest's ParseUUIDPipe accepted). */
const ACCOUNT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a value has the form of an account id (a UUID, in any case). */
export function isAccountId(value: unknown): value is string {
  return typeof value === 'string' && ACCOUNT_ID.test(value);
}

/**
 * An account id from the path, as a UUID in its canonical lower-case form. Postgres finds an account
 * by its id in any case, but the session keys in Redis and comparisons with a token's `sub` are
 * case-sensitive: an id in capitals changed the account and ended none of its sessions.
 * Anything else is refused with a domain error, so that the audit trail records the attempt as
 * invalid input (as it does a bad body), not as the failure a bug records.
 */
@Injectable()
export class AccountIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (!isAccountId(value)) throw new InvalidAccountIdError();
    return value.toLowerCase();
  }
}
