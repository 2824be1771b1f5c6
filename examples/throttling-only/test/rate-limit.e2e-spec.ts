import 'reflect-metadata';

import { randomUUID } from 'node:crypto';

import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import request from 'supertest';

import { AppModule } from '../src/app.module';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function startApp(): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication();
  await app.init();
  return app;
}

describe('an app that adopted @nest-hardening/rate-limit', () => {
  const keyPrefix = `example-throttling-only:${randomUUID()}:`;
  let first: INestApplication;
  let second: INestApplication;

  beforeAll(async () => {
    process.env.REDIS_KEY_PREFIX = keyPrefix;
    [first, second] = await Promise.all([startApp(), startApp()]);
  });

  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('answers 429 with Retry-After once a client spent its budget, counted in Redis across instances', async () => {
    // Limit 3 per minute per client, spent on two instances of the app that share one Redis.
    await request(first.getHttpServer()).get('/hello').expect(200, { hello: 'world' });
    await request(second.getHttpServer()).get('/hello').expect(200);
    const last = await request(first.getHttpServer()).get('/hello').expect(200);
    expect(last.headers['x-ratelimit-remaining']).toBe('0');

    const refused = await request(second.getHttpServer()).get('/hello').expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body).toMatchObject({ statusCode: 429 });

    const redis = new Redis(REDIS_URL);
    try {
      expect((await redis.keys(`${keyPrefix}*`)).length).toBeGreaterThan(0);
    } finally {
      await redis.quit();
    }
  });
});
