import { randomBytes } from 'node:crypto';
import request from 'supertest';

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

/** Registers through `baseUrl` (gateway `/api` or a service root) and logs in. */
export async function registerAndLogin(
  baseUrl: string,
  options: { email?: string; password?: string; userAgent?: string; forwardedFor?: string; pathPrefix?: string } = {},
): Promise<TestUser> {
  const email = options.email ?? uniqueEmail();
  const password = options.password ?? TEST_PASSWORD;
  const prefix = options.pathPrefix ?? '/api';
  const headers: Record<string, string> = { 'user-agent': options.userAgent ?? 'jest-e2e/1.0' };
  if (options.forwardedFor) headers['x-forwarded-for'] = options.forwardedFor;
  const registered = await request(baseUrl).post(`${prefix}/auth/register`).set(headers).send({ email, password });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  const tokens = await login(baseUrl, email, password, options);
  return { id: registered.body.id as string, email, password, ...tokens };
}

export async function login(
  baseUrl: string,
  email: string,
  password: string,
  options: { userAgent?: string; forwardedFor?: string; pathPrefix?: string } = {},
): Promise<TestTokens> {
  const headers: Record<string, string> = { 'user-agent': options.userAgent ?? 'jest-e2e/1.0' };
  if (options.forwardedFor) headers['x-forwarded-for'] = options.forwardedFor;
  const res = await request(baseUrl).post(`${options.pathPrefix ?? '/api'}/auth/login`).set(headers).send({ email, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { accessToken: res.body.accessToken as string, refreshToken: res.body.refreshToken as string };
}

/** A random 12+ character password of printable ASCII. */
export function randomPassword(): string {
  return randomBytes(18).toString('base64');
}
