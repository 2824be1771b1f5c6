import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';

/**
 * Installs the trusted-proxy list on the Express instance. Only peers in the list may set the
 * client address through `X-Forwarded-For`; Express (proxy-addr) walks the header from the right
 * and stops at the first untrusted hop. An empty list trusts nobody: the socket address is used.
 */
export function applyTrustedProxies(app: INestApplication, trusted: readonly string[]): void {
  (app as NestExpressApplication).set('trust proxy', trusted.length > 0 ? [...trusted] : false);
}
