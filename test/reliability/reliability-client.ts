import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';

import { eventually } from '@nest-hardening/testing';

import { TEST_PASSWORD, uniqueEmail } from '../support';

/** One answer, or what happened instead (`status` 0 with `error`: no answer, `hung`: client timeout). */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  ms: number;
  error?: string;
  hung?: boolean;
}

export interface CallOptions {
  /** Loopback source address (127.0.0.0/8): the client IP every service sees, so each test owns its budgets. */
  from?: string;
  token?: string;
  body?: unknown;
  /** Client-side limit for the whole exchange; exceeding it is reported as `hung`, not thrown. */
  timeoutMs?: number;
  userAgent?: string;
}

// Fresh connections per request: keep-alive would pin a round-robin client to whichever socket is free.
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

/** Never throws: transport errors and timeouts come back as a Reply so concurrent batches can be counted. */
export function call(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const url = new URL(path, baseUrl);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { 'user-agent': options.userAgent ?? 'reliability/1.0' };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const started = Date.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (reply: Omit<Reply, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...reply, ms: Date.now() - started });
    };
    const req = httpRequest(
      { agent, host: url.hostname, port: url.port, path: url.pathname, method, headers, localAddress: options.from },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => finish({ status: 0, headers: {}, body: {}, error: error.message }));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown>;
          try {
            body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            body = { text };
          }
          finish({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    // One deadline for connect + answer + body, so a stalled body counts as a hang too.
    const timer = setTimeout(() => {
      finish({ status: 0, headers: {}, body: {}, hung: true, error: `no answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (error) => finish({ status: 0, headers: {}, body: {}, error: error.message }));
    req.end(payload);
  });
}

let nextAddress = 0;
const runOctet = process.pid % 200;
/** A loopback address no other request of this run has used: a client with fresh per-IP budgets. */
export function freshIp(): string {
  nextAddress++;
  return `127.${100 + Math.floor(nextAddress / 250)}.${runOctet}.${(nextAddress % 250) + 1}`;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Account {
  email: string;
  password: string;
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

export function sessionIdOf(accessToken: string): string {
  return (JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString()) as { sid: string }).sid;
}

/** Registers directly at an auth-service (no gateway budget spent). */
export async function register(authUrl: string, email = uniqueEmail('rel')): Promise<Account> {
  const res = await call(authUrl, 'POST', '/auth/register', { from: freshIp(), body: { email, password: TEST_PASSWORD } });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)} ${res.error ?? ''}`);
  return { email, password: TEST_PASSWORD };
}

/** Logs in at `baseUrl` + `path` (auth-service `/auth/login` or gateway `/api/auth/login`). */
export async function logIn(baseUrl: string, account: Account, path = '/auth/login', from = freshIp()): Promise<Session> {
  const res = await call(baseUrl, 'POST', path, { from, body: account });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)} ${res.error ?? ''}`);
  const accessToken = res.body.accessToken as string;
  return { accessToken, refreshToken: res.body.refreshToken as string, sessionId: sessionIdOf(accessToken) };
}

/** Counts of each status (0 = no answer) in a batch of replies, e.g. `{ 200: 100, 429: 900 }`. */
export function statusCounts(replies: readonly Reply[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of replies) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** Polls `probe` every `intervalMs` until it returns true or `timeoutMs` passes; resolves with whether it succeeded. */
export const waitFor = (probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> =>
  eventually(probe, timeoutMs, intervalMs);
