import 'reflect-metadata';

import { randomUUID } from 'node:crypto';

import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import request from 'supertest';

import { AppModule } from '../src/app.module';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const EMAIL = 'demo@example.com';
const PASSWORD = 'correct horse battery staple';

describe('an app that adopted @nest-hardening/lockout', () => {
  const keyPrefix = `example-lockout-only:${randomUUID()}:`;
  let app: INestApplication;

  beforeAll(async () => {
    process.env.REDIS_KEY_PREFIX = keyPrefix;
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication();
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  const login = (password: string) => request(app.getHttpServer()).post('/login').send({ email: EMAIL, password });

  it('locks the account after 5 wrong passwords: the 6th attempt is refused even with the right one', async () => {
    await login(PASSWORD).expect(200, { ok: true });
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      await login(`wrong password ${attempt}`).expect(401);
    }

    const refused = await login(PASSWORD).expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body).toMatchObject({ statusCode: 429, message: 'Too many failed login attempts. Try again later.' });

    const redis = new Redis(REDIS_URL);
    try {
      expect((await redis.keys(`${keyPrefix}*`)).length).toBeGreaterThan(0);
    } finally {
      await redis.quit();
    }
  });
});
