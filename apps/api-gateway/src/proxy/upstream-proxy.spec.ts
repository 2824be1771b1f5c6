import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { UpstreamProxy } from './upstream-proxy';

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
const close = (server: Server) => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('UpstreamProxy', () => {
  let service: Server;
  let front: Server;
  let proxy: UpstreamProxy;
  let frontUrl: string;
  let serviceUrl: string;
  const reached: string[] = [];

  beforeAll(async () => {
    service = createServer((req, res) => {
      reached.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    serviceUrl = await listen(service);
    proxy = new UpstreamProxy(serviceUrl, { timeoutMs: 5_000, connections: 2, idleTimeoutMs: 5_000 });
    // The gateway's guards stand between a request's arrival and its forwarding: here, 150 ms.
    front = createServer((req, res) => setTimeout(() => proxy.forward(req, res), 150));
    frontUrl = await listen(front);
  });

  afterAll(async () => {
    await proxy.close();
    await close(front);
    await close(service);
  });

  it('sends nothing on for a client that left before its request was forwarded', async () => {
    const req = request(`${frontUrl}/api/left-early`);
    req.on('error', () => undefined);
    req.end();
    await sleep(30);
    req.destroy();
    await sleep(300);
    expect(reached).not.toContain('/left-early');
    // The pool is not held by it: the next request is answered.
    const answer = await new Promise<string>((resolve, reject) => {
      request(`${frontUrl}/api/next`, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(`${res.statusCode} ${body}`));
      })
        .on('error', reject)
        .end();
    });
    expect(answer).toBe('200 ok');
  });

  it('answers 503 to a request that waited too long for a pooled connection, and never sends it on', async () => {
    // One pooled connection, held by an upload that trickles its body.
    const busy = new UpstreamProxy(serviceUrl, {
      timeoutMs: 300,
      connections: 1,
      idleTimeoutMs: 5_000,
    });
    const gate = createServer((req, res) => busy.forward(req, res));
    const gateUrl = await listen(gate);
    try {
      const upload = request(`${gateUrl}/api/trickle`, { method: 'POST', headers: { 'content-length': '100' } });
      upload.on('error', () => undefined);
      upload.write('{');
      await sleep(100);
      const started = Date.now();
      const answer = await new Promise<{ status: number; retryAfter: string | undefined; body: string }>((resolve, reject) => {
        request(`${gateUrl}/api/queued`, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
        })
          .on('error', reject)
          .end();
      });
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(answer).toEqual({ status: 503, retryAfter: '1', body: JSON.stringify({ statusCode: 503, message: 'Upstream busy' }) });
      // Once the upload ends and frees the connection, the request that was answered is not sent.
      upload.end('x'.repeat(99));
      await sleep(300);
      expect(reached).toContain('/trickle');
      expect(reached).not.toContain('/queued');
    } finally {
      await busy.close();
      await close(gate);
    }
  });
});
