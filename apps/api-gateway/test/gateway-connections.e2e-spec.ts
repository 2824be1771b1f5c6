import { createHash, randomBytes } from 'node:crypto';
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { rawRequest, registerAndLogin, startTestSystem, type TestSystem, type TestUser } from '../../../test/support';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  socket: Socket;
}

/** One request over `agent`, the whole response read; `socket` is the client connection it used. */
function send(url: string, options: { agent: Agent; method?: string; headers?: Record<string, string>; body?: Buffer }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: options.agent, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          socket: req.socket as Socket,
        }),
      );
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const lenient = { RATE_LIMIT_GENERAL_LIMIT: '100000', RATE_LIMIT_AUTH_LIMIT: '1000' };

describe('gateway → service connections', () => {
  describe('against profile-service', () => {
    let system: TestSystem;
    let user: TestUser;
    let upstreamConnections = 0;

    beforeAll(async () => {
      system = await startTestSystem({ label: 'gw_conn', gatewayEnv: lenient, env: { RATE_LIMIT_PROFILE_LIMIT: '100000' } });
      user = await registerAndLogin(system.gatewayUrl);
      (system.profile.getHttpServer() as Server).on('connection', () => upstreamConnections++);
    });

    afterAll(() => system?.close());

    it('serves 1,000 sequential requests over one client connection and a handful of upstream connections', async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const sockets = new Set<Socket>();
      const before = upstreamConnections;
      try {
        for (let i = 0; i < 1000; i++) {
          const reply = await send(`${system.gatewayUrl}/api/profile`, { agent, headers: { authorization: `Bearer ${user.accessToken}` } });
          expect(reply.status).toBe(200);
          expect(reply.headers.connection).toBe('keep-alive');
          sockets.add(reply.socket);
        }
      } finally {
        agent.destroy();
      }
      expect(sockets.size).toBe(1);
      expect(upstreamConnections - before).toBeLessThanOrEqual(3);
    });

    it('closes the client connection when the client asks for it', async () => {
      const agent = new Agent({ keepAlive: false });
      const reply = await send(`${system.gatewayUrl}/api/profile`, {
        agent,
        headers: { authorization: `Bearer ${user.accessToken}`, connection: 'close' },
      });
      expect(reply.status).toBe(200);
      expect(reply.headers.connection).toBe('close');
    });

    /**
     * What became of a PATCH with a large body whose target, field names and values (what Node's parser
     * counts against its 16 kB) sweep, by padding, from well below what the gateway's fields push over
     * the limit up to the most the gateway's own parser accepts.
     */
    async function paddedPatchOutcomes(path: string, extra: [string, string][] = []): Promise<string[]> {
      const body = Buffer.from(`{"displayName":"padded"${' '.repeat(90_000)}}`);
      const headers: [string, string][] = [
        ['Host', new URL(system.gatewayUrl).host],
        ['Authorization', `Bearer ${user.accessToken}`],
        ['Content-Type', 'application/json'],
        ['Content-Length', String(body.length)],
        ...extra,
      ];
      // What Node counts of the request as written (rawRequest adds `Connection: close`), without the padding's value.
      const counted = path.length + 'Connection'.length + 'close'.length + 'X-Pad'.length;
      const fixed = headers.reduce((n, [name, value]) => n + name.length + value.length, counted);
      const outcomes: string[] = [];
      for (let bytes = 16_384 - 1600; bytes < 16_384; bytes += 16) {
        const res = await rawRequest(system.gatewayUrl, {
          method: 'PATCH',
          path,
          headers: [...headers, ['X-Pad', 'a'.repeat(bytes - fixed)]],
          body,
        });
        const refusal =
          res.status === 431 && /^application\/json/.test(res.headers['content-type'] ?? '') ? JSON.parse(res.body) : undefined;
        outcomes.push(
          res.status === 200
            ? 'forwarded'
            : refusal?.statusCode === 431
              ? 'refused by the gateway'
              : `${res.status} ${res.body.slice(0, 80)} at ${bytes} bytes`,
        );
      }
      return [...new Set(outcomes)];
    }

    // Node's parser refuses a request whose target, field names and values add up to 16 kB. The
    // gateway accepts one just below that; the fields it adds pushed it over at the service, which
    // answered 431 and closed the connection while the body was still being sent: a 502 for the client.
    it('answers a request whose headers the service could not read once forwarded with its own 431, never a 5xx', async () => {
      expect(await paddedPatchOutcomes('/api/profile')).toEqual(['forwarded', 'refused by the gateway']);
    });

    // Node joins the lines of a repeated field into one value (`a: 1, 1, …`): one name fewer, two
    // separator bytes more per line, so one-letter names grow as they are forwarded.
    it("answers its own 431, never the service's or a 5xx, to a field sent on many lines (joined into one when forwarded)", async () => {
      const repeated = Array.from({ length: 980 }, (): [string, string] => ['a', '1']);
      expect(await paddedPatchOutcomes('/api/profile', repeated)).toEqual(['forwarded', 'refused by the gateway']);
    });

    // The path of an absolute-form target is re-read by url.parse, which percent-encodes `{`, `|`,
    // `"` and the like: each of those is three bytes at the service.
    it("answers its own 431, never the service's or a 5xx, to an absolute-form target (re-encoded when forwarded)", async () => {
      const target = `${system.gatewayUrl}/api/profile?q=${'{'.repeat(300)}`;
      expect(await paddedPatchOutcomes(target)).toEqual(['forwarded', 'refused by the gateway']);
    });
  });

  describe('against a service the test controls', () => {
    let system: TestSystem;
    let user: TestUser;
    let service: Server;
    /** Requests each path reached the service with, and how many requests each connection has carried. */
    const seen = new Map<string, IncomingMessage[]>();
    const served = new WeakMap<Socket, number>();
    /** For each `/profile/endless` answer the service saw closed: whether it had finished. */
    const endlessClosed: boolean[] = [];
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });

    beforeAll(async () => {
      service = createServer((req, res) => {
        const path = req.url ?? '';
        seen.set(path, [...(seen.get(path) ?? []), req]);
        const reused = (served.get(req.socket) ?? 0) > 0;
        served.set(req.socket, (served.get(req.socket) ?? 0) + 1);
        if ((path.startsWith('/profile/dropped') && reused) || path === '/profile/always-dropped') {
          // A pooled connection that dies as the gateway reuses it: closed without a byte of answer.
          req.socket.destroy();
          return;
        }
        if (path === '/profile/silent') return;
        if (path === '/profile/upload') return streamUpload(req, res);
        if (path === '/profile/broken') {
          // A first chunk of a body of unknown length, then the connection breaks.
          req.resume();
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('0123456789', () => req.socket.destroy());
          return;
        }
        if (path === '/profile/endless') {
          req.resume();
          res.on('close', () => endlessClosed.push(res.writableFinished));
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write('data: first\n\n');
          return;
        }
        req.resume();
        res.setHeader('x-hop', 'named in Connection');
        res.setHeader('connection', 'x-hop');
        res.setHeader('keep-alive', 'timeout=5, max=7');
        res.setHeader('proxy-connection', 'keep-alive');
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ headers: req.headers }));
      });
      await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
      const serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
      system = await startTestSystem({
        label: 'gw_hop',
        gatewayEnv: { ...lenient, PROFILE_SERVICE_URL: serviceUrl, UPSTREAM_TIMEOUT_MS: '1000' },
      });
      user = await registerAndLogin(system.gatewayUrl);
    });

    afterAll(async () => {
      agent.destroy();
      await system?.close();
      service?.closeAllConnections();
      await new Promise((resolve) => service?.close(resolve));
    });

    const url = (path: string) => `${system.gatewayUrl}/api${path}`;
    const auth = () => ({ authorization: `Bearer ${user.accessToken}` });

    it('forwards no hop-by-hop field in either direction', async () => {
      const reply = await send(url('/profile/echo'), {
        agent,
        headers: {
          ...auth(),
          connection: 'keep-alive, x-client-hop',
          'x-client-hop': 'named in Connection',
          'keep-alive': 'timeout=1',
          'proxy-connection': 'keep-alive',
          te: 'trailers',
          'x-end-to-end': 'kept',
        },
      });
      expect(reply.status).toBe(200);
      const received = (JSON.parse(reply.body) as { headers: IncomingHttpHeaders }).headers;
      expect(received['x-end-to-end']).toBe('kept');
      for (const name of ['x-client-hop', 'keep-alive', 'proxy-connection', 'te']) expect(received[name]).toBeUndefined();
      expect(received.connection).toBe('keep-alive');
      expect(reply.headers['x-hop']).toBeUndefined();
      expect(reply.headers['proxy-connection']).toBeUndefined();
      expect(reply.headers['keep-alive']).not.toContain('max=7');
      expect(reply.headers.connection).toBe('keep-alive');
    });

    it('sends the path Express routed on: the /api prefix in any case, an absolute-form target as its path', async () => {
      const { port } = new URL(system.gatewayUrl);
      const targets = [
        ['/API/profile/target-case?q=1', '/profile/target-case?q=1'],
        [`http://127.0.0.1:${port}/api/profile/target-absolute?q=2`, '/profile/target-absolute?q=2'],
        ['http://example.com/Api/profile/target-other-host', '/profile/target-other-host'],
      ];
      for (const [target, expected] of targets) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, path: target, agent, headers: auth() }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end();
        });
        expect({ target, status }).toEqual({ target, status: 200 });
        expect(seen.get(expected)).toHaveLength(1);
      }
    });

    // Node's HTTP server keeps the first 1,000 header lines of a request and silently drops the rest
    // (its parser still frames the body). undici writes the client's fields first, the gateway's
    // X-Forwarded-For, X-Forwarded-Proto and X-Gateway-Signature after them and Content-Length last:
    // a client that sends about 1,000 fields of its own would have the service see none of those.
    it('does not let a client push its signed fields out of what the service reads by sending many header fields', async () => {
      const many = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`x-f${i.toString(36)}`, '1']));
      const body = Buffer.from('{}');
      const within = await send(url('/profile/many-fields-900'), {
        agent,
        method: 'POST',
        headers: { ...auth(), ...many(900), 'content-type': 'application/json' },
        body,
      });
      expect(within.status).toBe(200);
      const tooMany = await send(url('/profile/many-fields-996'), {
        agent,
        method: 'POST',
        headers: { ...auth(), ...many(996), 'content-type': 'application/json' },
        body,
      });
      // Every request the service got carries the gateway's signature and its framing.
      for (const received of [...(seen.get('/profile/many-fields-900') ?? []), ...(seen.get('/profile/many-fields-996') ?? [])]) {
        expect({
          signature: received.headers['x-gateway-signature'] !== undefined,
          forwardedFor: received.headers['x-forwarded-for'],
          contentLength: received.headers['content-length'],
        }).toEqual({ signature: true, forwardedFor: '127.0.0.1', contentLength: '2' });
      }
      expect(seen.get('/profile/many-fields-900')).toHaveLength(1);
      // The gateway refuses what it could not forward whole, before the service sees it.
      expect(tooMany.status).toBe(431);
      expect(seen.get('/profile/many-fields-996')).toBeUndefined();
    });

    it('streams a large upload to the service and the answer back before the upload ends', async () => {
      const first = randomBytes(64 * 1024);
      const rest = randomBytes(8 * 1024 * 1024);
      const sent = createHash('sha256').update(first).update(rest).digest('hex');
      const answer = await new Promise<{ early: string | string[] | undefined; body: string }>((resolve, reject) => {
        const req = request(
          url('/profile/upload'),
          { method: 'POST', agent, headers: { ...auth(), 'content-type': 'application/octet-stream' } },
          (res) => {
            // The service answered after the first chunk; only now does the client send the rest.
            req.end(rest);
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve({ early: res.headers['x-received-first-chunk'], body: Buffer.concat(chunks).toString() }));
          },
        );
        req.on('error', reject);
        req.write(first);
      });
      expect(answer.early).toBe('yes');
      expect(JSON.parse(answer.body)).toEqual({ bytes: first.length + rest.length, sha256: sent });
    });

    it('breaks the client response off when the service breaks off mid-body', async () => {
      const outcome = await new Promise<{ status: number; received: string; ended: boolean }>((resolve) => {
        const req = request(url('/profile/broken'), { agent: new Agent({ keepAlive: false }), headers: auth() }, (res) => {
          let received = '';
          res.on('data', (chunk: Buffer) => (received += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, received, ended: true }));
          res.on('error', () => undefined);
          res.on('close', () => resolve({ status: res.statusCode ?? 0, received, ended: false }));
        });
        req.on('error', () => undefined);
        req.end();
      });
      // Not a short body that looks complete: the client sees the connection break.
      expect(outcome).toEqual({ status: 200, received: '0123456789', ended: false });
    });

    it('stops the request to the service when the client goes away mid-answer', async () => {
      await new Promise<void>((resolve, reject) => {
        const req = request(url('/profile/endless'), { agent: new Agent({ keepAlive: false }), headers: auth() }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
        req.end();
      });
      for (let i = 0; i < 50 && endlessClosed.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      // The gateway closed its connection to the service rather than leave the answer running.
      expect(endlessClosed).toEqual([false]);
    });

    it('retries a GET once when its reused pooled connection dies before answering', async () => {
      expect((await send(url('/profile/warm-1'), { agent, headers: auth() })).status).toBe(200);
      const reply = await send(url('/profile/dropped-get'), { agent, headers: auth() });
      // First try on the pooled connection (dropped), the retry on a fresh one (dropped only when reused).
      expect(reply.status).toBe(200);
      expect(seen.get('/profile/dropped-get')).toHaveLength(2);
    });

    it('retries a GET only once', async () => {
      expect((await send(url('/profile/warm-2'), { agent, headers: auth() })).status).toBe(200);
      const reply = await send(url('/profile/always-dropped'), { agent, headers: auth() });
      expect(reply.status).toBe(502);
      expect(seen.get('/profile/always-dropped')).toHaveLength(2);
    });

    it('does not retry a POST whose pooled connection died', async () => {
      expect((await send(url('/profile/warm-4'), { agent, headers: auth() })).status).toBe(200);
      const reply = await send(url('/profile/dropped-post'), { agent, method: 'POST', headers: auth() });
      expect(reply.status).toBe(502);
      expect(JSON.parse(reply.body)).toEqual({ statusCode: 502, message: 'Upstream unavailable' });
      expect(seen.get('/profile/dropped-post')).toHaveLength(1);
    });

    it('answers 504 when the service does not answer in time', async () => {
      const reply = await send(url('/profile/silent'), { agent, headers: auth() });
      expect(reply.status).toBe(504);
      expect(JSON.parse(reply.body)).toEqual({ statusCode: 504, message: 'Upstream timed out' });
    });
  });
  describe('a client that trickles its request', () => {
    let system: TestSystem;
    let user: TestUser;
    let service: Server;
    /** Whether each `/profile/trickle` request the service got had its body in full when it ended. */
    const trickles: boolean[] = [];

    beforeAll(async () => {
      service = createServer((req, res) => {
        if (req.url === '/profile/trickle') {
          let received = 0;
          req.on('data', (chunk: Buffer) => (received += chunk.length));
          req.on('close', () => trickles.push(received === Number(req.headers['content-length'])));
          req.on('end', () => res.end('whole'));
          return;
        }
        req.resume();
        res.end('ok');
      });
      await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
      system = await startTestSystem({
        label: 'gw_slow',
        // One pooled connection: while the trickle holds it, nothing else reaches the service.
        gatewayEnv: {
          ...lenient,
          PROFILE_SERVICE_URL: `http://127.0.0.1:${(service.address() as AddressInfo).port}`,
          UPSTREAM_MAX_SOCKETS: '1',
          UPSTREAM_TIMEOUT_MS: '1000',
          REQUEST_TIMEOUT_MS: '1000',
        },
      });
      user = await registerAndLogin(system.gatewayUrl);
    });

    afterAll(async () => {
      await system?.close();
      service?.closeAllConnections();
      await new Promise((resolve) => service?.close(resolve));
    });

    it('answers 408 after REQUEST_TIMEOUT_MS, closes the connection and frees the pooled connection it held', async () => {
      const started = Date.now();
      const outcome = await new Promise<{ status: number; closedAfterMs: number }>((resolve, reject) => {
        const req = request(`${system.gatewayUrl}/api/profile/trickle`, {
          method: 'POST',
          agent: new Agent({ keepAlive: false }),
          headers: { authorization: `Bearer ${user.accessToken}`, 'content-type': 'application/json', 'content-length': '100' },
        });
        req.on('response', (res) => {
          res.resume();
          res.on('close', () => resolve({ status: res.statusCode ?? 0, closedAfterMs: Date.now() - started }));
        });
        req.on('error', reject);
        // A byte every 200 ms: the upload would take 20 s.
        const drip = setInterval(() => req.write(' '), 200);
        req.on('close', () => clearInterval(drip));
        req.write('{');
      });
      expect(outcome.status).toBe(408);
      // 1 s limit, checked every second by the server; Node's defaults would have waited 300 s.
      expect(outcome.closedAfterMs).toBeLessThan(5000);
      // The service sees the forwarded request end unfinished, and the pooled connection is free again.
      for (let i = 0; i < 100 && trickles.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(trickles).toEqual([false]);
      const next = await send(`${system.gatewayUrl}/api/profile/next`, {
        agent: new Agent({ keepAlive: false }),
        headers: { authorization: `Bearer ${user.accessToken}` },
      });
      expect([next.status, next.body]).toEqual([200, 'ok']);
    });
  });
});

/** Answers headers on the first chunk, then the size and hash of the whole body once it has ended. */
function streamUpload(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  const hash = createHash('sha256');
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    if (bytes === 0) {
      res.writeHead(200, { 'content-type': 'application/json', 'x-received-first-chunk': 'yes' });
      res.flushHeaders();
    }
    bytes += chunk.length;
    hash.update(chunk);
  });
  req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') })));
}
