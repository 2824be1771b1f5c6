import { Injectable, ParseUUIDPipe, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';

/**
 * An account id from the path, as a UUID in its canonical lower-case form. Postgres finds an account
 * by its id in any case, but the session keys in Redis and comparisons with a token's `sub` are
 * case-sensitive: an id in capitals changed the account and ended none of its sessions.
 */
@Injectable()
export class AccountIdPipe implements PipeTransform<string, Promise<string>> {
  private readonly uuid = new ParseUUIDPipe();

  async transform(value: string, metadata: ArgumentMetadata): Promise<string> {
    return (await this.uuid.transform(value, metadata)).toLowerCase();
  }
}
