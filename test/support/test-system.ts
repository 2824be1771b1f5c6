import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { INestApplication } from '@nestjs/common';

import { redisConnection, type Env } from '@nest-hardening/config';
import { deleteClusterKeysWithPrefix, deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix } from '@nest-hardening/testing';

// Tests compose the very applications main.ts starts, with their own settings.
import { createApiGatewayApp } from '../../apps/api-gateway/src/api-gateway.app';
import { loadApiGatewayConfig } from '../../apps/api-gateway/src/config/api-gateway.config';
import { createAuthServiceApp } from '../../apps/auth-service/src/auth-service.app';
import { loadAuthServiceConfig } from '../../apps/auth-service/src/config/auth-service.config';
import { loadProfileServiceConfig } from '../../apps/profile-service/src/config/profile-service.config';
import { createProfileServiceApp } from '../../apps/profile-service/src/profile-service.app';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestSystemOptions {
  /**
   * Settings for every app (e.g. REDIS_URL of a Redis the test runs itself, or REDIS_CLUSTER_NODES
   * of a cluster from `startRedisCluster`, listing every master so clean-up reaches all of them).
   */
  env?: Env;
  authEnv?: Env;
  profileEnv?: Env;
  gatewayEnv?: Env;
  /** Extra gateway processes sharing Redis with the first (for multi-instance tests). */
  extraGateways?: number;
  /** Extra auth-service processes (for multi-instance tests). */
  extraAuthServices?: number;
  label?: string;
}

export interface TestSystem {
  gatewayUrl: string;
  gatewayUrls: string[];
  authUrl: string;
  authUrls: string[];
  profileUrl: string;
  auth: INestApplication;
  authApps: INestApplication[];
  profile: INestApplication;
  gateway: INestApplication;
  gateways: INestApplication[];
  keyPrefix: string;
  database: TestDatabase;
  /** The secret the gateway signs forwarded headers with (see `gatewaySignedHeaders`). */
  gatewaySecret: string;
  /**
   * Stops auth-service instance `index` and starts it again on the same port, its settings plus
   * `env` (a step of a rolling restart, e.g. of a key rotation).
   */
  restartAuthService(index: number, env: Env): Promise<void>;
  close(): Promise<void>;
}

async function listen(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}

/**
 * Starts auth-service, profile-service and api-gateway in this process on free ports, against the
 * real Redis (own key prefix) and Postgres (own database), like `npm start` does. `close()` stops
 * them and removes every key, the database and the generated keys.
 */
export async function startTestSystem(options: TestSystemOptions = {}): Promise<TestSystem> {
  const label = options.label ?? 'sys';
  const keyPrefix = uniqueKeyPrefix(label);
  const database = await createTestDatabase(label);
  const keysDir = mkdtempSync(join(tmpdir(), 'sec-keys-'));
  const shared: Env = {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: keyPrefix,
    REDIS_COMMAND_TIMEOUT_MS: '1000',
    DATABASE_URL: database.url,
    DATABASE_MIGRATE_ON_START: 'false',
    KEYS_DIR: keysDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'fatal',
    ...options.env,
  };
  const started: INestApplication[] = [];
  const start = async (app: INestApplication) => {
    started.push(app);
    return listen(app);
  };
  try {
    const authConfig = loadAuthServiceConfig({ ...shared, ...options.authEnv });
    const authApps: INestApplication[] = [];
    const authUrls: string[] = [];
    for (let i = 0; i <= (options.extraAuthServices ?? 0); i++) {
      const app = await createAuthServiceApp(authConfig);
      authUrls.push(await start(app));
      authApps.push(app);
    }
    const profile = await createProfileServiceApp(
      loadProfileServiceConfig({ ...shared, AUTH_SERVICE_URL: authUrls[0], ...options.profileEnv }),
    );
    const profileUrl = await start(profile);
    const gateways: INestApplication[] = [];
    const gatewayUrls: string[] = [];
    for (let i = 0; i <= (options.extraGateways ?? 0); i++) {
      const gatewayConfig = loadApiGatewayConfig({
        ...shared,
        AUTH_SERVICE_URL: authUrls[i % authUrls.length],
        PROFILE_SERVICE_URL: profileUrl,
        ...options.gatewayEnv,
      });
      const app = await createApiGatewayApp(gatewayConfig);
      gatewayUrls.push(await start(app));
      gateways.push(app);
    }
    const system: TestSystem = {
      gatewayUrl: gatewayUrls[0],
      gatewayUrls,
      authUrl: authUrls[0],
      authUrls,
      profileUrl,
      auth: authApps[0],
      authApps,
      profile,
      gateway: gateways[0],
      gateways,
      keyPrefix,
      database,
      gatewaySecret: authConfig.secrets.gateway,
      async restartAuthService(index, env) {
        const previous = authApps[index];
        started.splice(started.indexOf(previous), 1);
        await previous.close();
        const app = await createAuthServiceApp(loadAuthServiceConfig({ ...shared, ...options.authEnv, ...env }));
        started.push(app);
        await app.listen(Number(new URL(authUrls[index]).port), '127.0.0.1');
        authApps[index] = app;
        system.auth = authApps[0];
      },
      async close() {
        await Promise.allSettled(started.reverse().map((app) => app.close()));
        const redis = redisConnection(authConfig);
        await (
          redis.clusterNodes
            ? deleteClusterKeysWithPrefix(keyPrefix, redis.clusterNodes, redis)
            : deleteKeysWithPrefix(keyPrefix, redis.url)
        ).catch(() => undefined);
        await database.drop();
        rmSync(keysDir, { recursive: true, force: true });
      },
    };
    return system;
  } catch (error) {
    await Promise.allSettled(started.map((app) => app.close()));
    await database.drop().catch(() => undefined);
    rmSync(keysDir, { recursive: true, force: true });
    throw error;
  }
}
