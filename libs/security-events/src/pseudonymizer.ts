import { createHmac } from 'node:crypto';

/**
 * Keyed, stable pseudonyms: the same email gives the same pseudonym (so events can be correlated)
 * but the value cannot be recovered, nor guessed from a list of emails, without the key.
 */
export class Pseudonymizer {
  constructor(private readonly key: string) {}

  pseudonymize(value: string): string {
    return createHmac('sha256', this.key).update(value).digest('base64url').slice(0, 22);
  }
}
