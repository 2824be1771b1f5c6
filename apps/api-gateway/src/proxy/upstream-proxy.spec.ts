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
  const reached: string[] = [];

  beforeAll(async () => {
    service = createServer((req, res) => {
      reached.push(req.url ?? '');
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    proxy = new UpstreamProxy(await listen(service), { timeoutMs: 5_000, connections: 2, idleTimeoutMs: 5_000 });
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
});
