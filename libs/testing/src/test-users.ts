import { randomBytes } from 'node:crypto';

import request from 'supertest';

import { gatewaySignedHeaders } from './gateway-signing';

export interface TestTokens {
  accessToken: string;
  refreshToken: string;
}

export interface TestUser extends TestTokens {
  id: string;
  email: string;
  password: string;
}

export const TEST_PASSWORD = 'correct horse battery staple';

export function uniqueEmail(label = 'user'): string {
  return `${label}-${randomBytes(5).toString('hex')}@example.com`;
}

export interface TestClientOptions {
  userAgent?: string;
  /** The client address to claim: believed by a gateway that trusts the test as a proxy, or by a service when `gatewaySecret` signs it. */
  forwardedFor?: string;
  /** Straight at a service: sign `forwardedFor` as the gateway does, with this secret (`TestSystem.gatewaySecret`). */
  gatewaySecret?: string;
  pathPrefix?: string;
}

function clientHeaders(options: TestClientOptions, path: string): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': options.userAgent ?? 'jest-e2e/1.0' };
  if (options.forwardedFor && options.gatewaySecret)
    Object.assign(headers, gatewaySignedHeaders(options.gatewaySecret, 'POST', path, options.forwardedFor));
  else if (options.forwardedFor) headers['x-forwarded-for'] = options.forwardedFor;
  return headers;
}

/** Registers through `baseUrl` (gateway `/api` or a service root) and logs in. */
export async function registerAndLogin(
  baseUrl: string,
  options: TestClientOptions & { email?: string; password?: string } = {},
): Promise<TestUser> {
  const email = options.email ?? uniqueEmail();
  const password = options.password ?? TEST_PASSWORD;
  const path = `${options.pathPrefix ?? '/api'}/auth/register`;
  const registered = await request(baseUrl).post(path).set(clientHeaders(options, path)).send({ email, password });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  const tokens = await login(baseUrl, email, password, options);
  return { id: registered.body.id as string, email, password, ...tokens };
}

export async function login(baseUrl: string, email: string, password: string, options: TestClientOptions = {}): Promise<TestTokens> {
  const path = `${options.pathPrefix ?? '/api'}/auth/login`;
  const res = await request(baseUrl).post(path).set(clientHeaders(options, path)).send({ email, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { accessToken: res.body.accessToken as string, refreshToken: res.body.refreshToken as string };
}

/** A random 24-character password of printable ASCII (the minimum is 15). */
export function randomPassword(): string {
  return randomBytes(18).toString('base64');
}
