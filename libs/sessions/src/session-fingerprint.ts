import { createHmac } from 'node:crypto';
import { networkPrefix } from '@lib/client-ip';
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
 */
export class SessionFingerprinter {
  constructor(
    private readonly secret: string,
    private readonly ipv4PrefixBits: number,
    private readonly ipv6PrefixBits: number,
  ) {}

  fingerprint(client: ClientContext): SessionFingerprint {
    return {
      userAgent: this.hmac(`ua|${client.userAgent}`),
      ip: this.hmac(`ip|${networkPrefix(client.ip, this.ipv4PrefixBits, this.ipv6PrefixBits)}`),
    };
  }

  private hmac(value: string): string {
    return createHmac('sha256', this.secret).update(value).digest('base64url').slice(0, 22);
  }
}
