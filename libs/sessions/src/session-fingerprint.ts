import { createHmac } from 'node:crypto';

import { networkPrefix } from '@nest-hardening/client-ip';

import type { ClientContext } from './session.interface';

export interface SessionFingerprint {
  userAgent: string;
  ip: string;
}

/**
 * Keyed hashes of the client's user agent and network, recorded at login and compared on refresh.
 * Keyed (HMAC) so that a copy of Redis does not reveal which user agents or networks a user has,
 * and the IP is reduced to its network prefix first so that address changes within one network
 * (mobile carriers, DHCP) do not count as a different client.
 *
 * During a secret rotation, sessions recorded under `previousSecret` are compared against the
 * fingerprint under that secret too (see {@link previousFingerprint}).
 */
export class SessionFingerprinter {
  constructor(
    private readonly secret: string,
    private readonly ipv4PrefixBits: number,
    private readonly ipv6PrefixBits: number,
    private readonly previousSecret?: string,
  ) {}

  fingerprint(client: ClientContext): SessionFingerprint {
    return this.with(this.secret, client);
  }

  /** The client's fingerprint under the previous secret, while one is configured. */
  previousFingerprint(client: ClientContext): SessionFingerprint | undefined {
    return this.previousSecret ? this.with(this.previousSecret, client) : undefined;
  }

  private with(secret: string, client: ClientContext): SessionFingerprint {
    const hmac = (value: string) => createHmac('sha256', secret).update(value).digest('base64url').slice(0, 22);
    return {
      userAgent: hmac(`ua|${client.userAgent}`),
      ip: hmac(`ip|${networkPrefix(client.ip, this.ipv4PrefixBits, this.ipv6PrefixBits)}`),
    };
  }
}
