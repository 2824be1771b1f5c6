import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';

import { API_GATEWAY_CONFIG, type ApiGatewayConfig } from '../config/api-gateway.config';
import { UpstreamProxy } from './upstream-proxy';

/** One proxy (and one connection pool) per downstream service, created once. */
@Injectable()
export class Upstreams implements OnApplicationShutdown {
  readonly auth: UpstreamProxy;
  readonly profile: UpstreamProxy;

  constructor(@Inject(API_GATEWAY_CONFIG) config: ApiGatewayConfig) {
    const options = {
      timeoutMs: config.UPSTREAM_TIMEOUT_MS,
      connections: config.UPSTREAM_MAX_SOCKETS,
      idleTimeoutMs: config.UPSTREAM_IDLE_TIMEOUT_MS,
      clientStallMs: config.UPSTREAM_CLIENT_STALL_MS,
    };
    this.auth = new UpstreamProxy(config.AUTH_SERVICE_URL, options);
    this.profile = new UpstreamProxy(config.PROFILE_SERVICE_URL, options);
  }

  /** After the HTTP server has closed (no request left to proxy): the pooled connections go too. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.auth.close(), this.profile.close()]);
  }
}
