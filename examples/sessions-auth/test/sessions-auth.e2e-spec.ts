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
const LAPTOP = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const PHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

describe('an app that adopted @nest-hardening/auth and @nest-hardening/sessions', () => {
  const keyPrefix = `example-sessions-auth:${randomUUID()}:`;
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

  const http = () => request(app.getHttpServer());
  const login = async (userAgent = LAPTOP): Promise<TokenPair> =>
    (await http().post('/auth/login').set('user-agent', userAgent).send({ email: EMAIL, password: PASSWORD }).expect(200)).body;
  const refresh = (refreshToken: string, userAgent = LAPTOP) =>
    http().post('/auth/refresh').set('user-agent', userAgent).send({ refreshToken });
  const me = (accessToken: string) => http().get('/me').set('authorization', `Bearer ${accessToken}`);

  it('refuses a protected route without a token, with a bad token, and an admin route to a user', async () => {
    await http().get('/me').expect(401);
    await me('not-a-jwt').expect(401);
    const { accessToken } = await login();
    // The same token with one character of its signature changed.
    const last = accessToken.at(-2) === 'A' ? 'B' : 'A';
    await me(`${accessToken.slice(0, -2)}${last}${accessToken.at(-1)}`).expect(401, {
      statusCode: 401,
      message: 'Unauthorized',
      error: 'invalid_token',
    });
    await me(accessToken).expect(200, { id: '0b6f5b8e-2d1c-4c3a-9e7f-1a2b3c4d5e6f', role: 'user' });
    // A valid token whose role is not enough: 403, not 401.
    await http().get('/admin').set('authorization', `Bearer ${accessToken}`).expect(403);
    await http().post('/auth/login').send({ email: EMAIL, password: 'wrong' }).expect(401);
  });

  it('rotates the refresh token, and a retired one presented again ends the session', async () => {
    const first = await login();
    const second: TokenPair = (await refresh(first.refreshToken).expect(200)).body;
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    await me(second.accessToken).expect(200);
    const third: TokenPair = (await refresh(second.refreshToken).expect(200)).body;

    // Retired two rotations ago, so outside the grace window that gives the token rotated last its
    // successor again (tabs that refreshed at once): presenting it is reuse (a stolen copy, say),
    // refused, and the whole session ends with it.
    await refresh(first.refreshToken).expect(401, { statusCode: 401, message: 'Invalid refresh token', error: 'invalid_refresh_token' });
    await me(third.accessToken).expect(401);
    await refresh(third.refreshToken).expect(401);
  });

  it('lists the sessions, and revoking one refuses its access token and its refresh token', async () => {
    const laptop = await login(LAPTOP);
    const phone = await login(PHONE);

    const listed = await http().get('/me/sessions').set('authorization', `Bearer ${laptop.accessToken}`).expect(200);
    const sessions = listed.body as Array<{ id: string; current: boolean; device: string }>;
    expect(sessions.filter((s) => s.current)).toEqual([expect.objectContaining({ device: 'Firefox 128 on Windows' })]);
    const phoneSession = sessions.find((s) => s.device.includes('iPhone'));
    expect(phoneSession).toMatchObject({ current: false });
    // No token leaves the server in the list: not the MAC that makes a refresh token valid.
    expect(listed.text).not.toContain(phone.refreshToken.split('.')[3]);

    await http().delete(`/me/sessions/${phoneSession!.id}`).set('authorization', `Bearer ${laptop.accessToken}`).expect(204);
    await me(phone.accessToken).expect(401);
    await refresh(phone.refreshToken, PHONE).expect(401);
    await me(laptop.accessToken).expect(200);
  });

  it('logs out: the access token and the refresh token of the session are refused', async () => {
    const pair = await login();
    await me(pair.accessToken).expect(200);
    await http().post('/auth/logout').set('authorization', `Bearer ${pair.accessToken}`).expect(204);
    await me(pair.accessToken).expect(401);
    await refresh(pair.refreshToken).expect(401);
    await http().post('/auth/logout').set('authorization', `Bearer ${pair.accessToken}`).expect(401);
  });
});
