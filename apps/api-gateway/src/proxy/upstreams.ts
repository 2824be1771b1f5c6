import { Inject, Injectable } from '@nestjs/common';
import type { RequestHandler } from 'http-proxy-middleware';
import { API_GATEWAY_CONFIG, type ApiGatewayConfig } from '../config/api-gateway.config';
import { createUpstreamProxy } from './upstream-proxy.factory';

/** One proxy per downstream service, created once. */
@Injectable()
export class Upstreams {
  readonly auth: RequestHandler;
  readonly profile: RequestHandler;

  constructor(@Inject(API_GATEWAY_CONFIG) config: ApiGatewayConfig) {
    this.auth = createUpstreamProxy(config.AUTH_SERVICE_URL, config.UPSTREAM_TIMEOUT_MS);
    this.profile = createUpstreamProxy(config.PROFILE_SERVICE_URL, config.UPSTREAM_TIMEOUT_MS);
  }
}
