import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket, type Server as TcpServer } from 'node:net';

import { verifyGatewaySignature } from '@nest-hardening/client-ip';

import {
  login,
  RawConnection,
  registerAndLogin,
  startTestSystem,
  type RawResponse,
  type TestSystem,
  type TestUser,
} from '../../../test/support';

/**
 * The gateway as a reverse proxy in front of a payments API, attacked byte by byte over raw TCP:
 * request smuggling and desync (RFC 9112 §6.3, §11.2), hop-by-hop and forwarding headers, upgrades,
 * and upstreams that answer badly. The properties: a request with ambiguous framing is refused (400)
 * and its connection closed, or exactly one well-framed request reaches the service; what follows on
 * the client's connection or on the pooled connection to the service is never attributed to anyone
 * else; a broken answer reaches the client as a clean close, never as another client's bytes.
 */

/** What the service behind the gateway received: one entry per request. */
interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const lenient = { RATE_LIMIT_GENERAL_LIMIT: '100000', RATE_LIMIT_AUTH_LIMIT: '1000', RATE_LIMIT_PROFILE_LIMIT: '100000' };

describe('request smuggling and desync through the gateway, on raw connections', () => {
  describe('in front of a service that records what it receives', () => {
    let system: TestSystem;
    let alice: TestUser;
    let bob: TestUser;
    let service: Server;
    let port: number;
    const received: Received[] = [];

    beforeAll(async () => {
      service = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('latin1');
          received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
          res.setHeader('content-type', 'text/plain');
          if (req.url === '/profile/unknown-length') res.write(`streamed ${req.url}`);
          res.end(`service got ${req.method} ${req.url} with ${JSON.stringify(body)}`);
        });
      });
      await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
      system = await startTestSystem({
        label: 'gw_smuggle',
        // One pooled connection per service: whatever one request leaves behind on it, the next one meets.
        gatewayEnv: {
          ...lenient,
          PROFILE_SERVICE_URL: `http://127.0.0.1:${(service.address() as AddressInfo).port}`,
          UPSTREAM_MAX_SOCKETS: '1',
          REQUEST_TIMEOUT_MS: '1000',
        },
      });
      alice = await registerAndLogin(system.gatewayUrl);
      bob = await registerAndLogin(system.gatewayUrl);
      port = Number(new URL(system.gatewayUrl).port);
    });

    afterAll(async () => {
      await system?.close();
      service?.closeAllConnections();
      await new Promise((resolve) => service?.close(resolve));
    });

    const bearer = (user: TestUser) => `Authorization: Bearer ${user.accessToken}\r\n`;
    const get = (path: string, user?: TestUser, extra = '') =>
      `GET ${path} HTTP/1.1\r\nHost: gw\r\n${user ? bearer(user) : ''}${extra}\r\n`;
    /** A request hidden after another one's framing: reaching the service means a desync. */
    const smuggled = () => get('/api/profile/smuggled', alice);

    /**
     * The requests the service received since `mark`, once a request sent after them on a new
     * connection has arrived: the pool has one connection and no pipelining, so it orders them.
     */
    async function receivedSince(mark: number): Promise<string[]> {
      const sentinel = new RawConnection(port);
      await sentinel.send(get('/api/profile/sentinel', alice, 'Connection: close\r\n'));
      const { responses } = await sentinel.closed();
      expect(responses.map((r) => r.status)).toEqual([200]);
      return received
        .slice(mark)
        .map((r) => `${r.method} ${r.url}`)
        .filter((r) => r !== 'GET /profile/sentinel');
    }

    const framed = (head: string, body: string) => `POST /api/profile/framing HTTP/1.1\r\nHost: gw\r\n${bearer(alice)}${head}\r\n${body}`;

    // Node's parser refuses each of these with its own 400 and closes the connection (the last one:
    // the gateway); nothing after it is served, so the request hidden behind it never reaches the service.
    it.each<[string, () => string]>([
      [
        'Content-Length and Transfer-Encoding',
        () => framed('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', `0\r\n\r\n${smuggled()}`),
      ],
      [
        'Transfer-Encoding and Content-Length',
        () => framed('Transfer-Encoding: chunked\r\nContent-Length: 5\r\n', `0\r\n\r\n${smuggled()}`),
      ],
      ['two different Content-Length lines', () => framed('Content-Length: 0\r\nContent-Length: 45\r\n', smuggled())],
      ['two equal Content-Length lines', () => framed('Content-Length: 4\r\nContent-Length: 4\r\n', `abcd${smuggled()}`)],
      ['a comma-listed Content-Length', () => framed('Content-Length: 4, 4\r\n', `abcd${smuggled()}`)],
      ['a signed Content-Length', () => framed('Content-Length: +4\r\n', `abcd${smuggled()}`)],
      ['Transfer-Encoding: xchunked', () => framed('Transfer-Encoding: xchunked\r\n', `0\r\n\r\n${smuggled()}`)],
      [
        'Transfer-Encoding: chunked, gzip (chunked not last)',
        () => framed('Transfer-Encoding: chunked, gzip\r\n', `0\r\n\r\n${smuggled()}`),
      ],
      ['Transfer-Encoding: chunked, chunked', () => framed('Transfer-Encoding: chunked, chunked\r\n', `0\r\n\r\n${smuggled()}`)],
      [
        'Transfer-Encoding on two lines',
        () => framed('Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n', `0\r\n\r\n${smuggled()}`),
      ],
      [
        'Transfer-Encoding: identity with Content-Length',
        () => framed('Transfer-Encoding: identity\r\nContent-Length: 4\r\n', `abcd${smuggled()}`),
      ],
      ['white space before the colon of Transfer-Encoding', () => framed('Transfer-Encoding : chunked\r\n', `0\r\n\r\n${smuggled()}`)],
      [
        'Transfer-Encoding folded onto a second line (obs-fold)',
        () => framed('Transfer-Encoding:\r\n chunked\r\n', `0\r\n\r\n${smuggled()}`),
      ],
      ['Content-Length folded onto a second line (obs-fold)', () => framed('Content-Length:\r\n 4\r\n', `abcd${smuggled()}`)],
      [
        'a chunk size that overflows 64 bits',
        () => framed('Transfer-Encoding: chunked\r\n', `10000000000000004\r\nabcd\r\n0\r\n\r\n${smuggled()}`),
      ],
      ['a chunk size with leading white space', () => framed('Transfer-Encoding: chunked\r\n', ` 4\r\nabcd\r\n0\r\n\r\n${smuggled()}`)],
      ['a chunk size written 0x4', () => framed('Transfer-Encoding: chunked\r\n', `0x4\r\nabcd\r\n0\r\n\r\n${smuggled()}`)],
      ['chunk lines ended by a bare LF', () => framed('Transfer-Encoding: chunked\r\n', `4\nabcd\n0\n\n${smuggled()}`)],
      ['chunk data longer than its size', () => framed('Transfer-Encoding: chunked\r\n', `4\r\nabcdXX\r\n0\r\n\r\n${smuggled()}`)],
      ['a request head with bare LF line ends', () => `${get('/api/profile/framing', alice).replace(/\r\n/g, '\n')}${smuggled()}`],
      ['a bare CR inside a field value', () => `${get('/api/profile/framing', alice, 'X-Note: a\rb\r\n')}${smuggled()}`],
      [
        'an ordinary field folded onto a second line (obs-fold)',
        () => `${get('/api/profile/framing', alice, 'X-Note: a\r\n b\r\n')}${smuggled()}`,
      ],
      // RFC 9112 §6.1: HTTP/1.0 has no Transfer-Encoding; a hop that speaks 1.0 reads no body here,
      // so what the gateway would decode as chunks is that hop's next request.
      [
        'HTTP/1.0 with Transfer-Encoding, asking to keep the connection',
        () =>
          `POST /api/profile/framing HTTP/1.0\r\nHost: gw\r\n${bearer(alice)}Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n${smuggled()}`,
      ],
      // Node's parser takes any HTTP/x.y request line; a hop that rejects or down-grades an
      // HTTP/2.0 line as HTTP/1 text frames its body its own way.
      [
        'HTTP/2.0 in an HTTP/1 request line with Transfer-Encoding',
        () =>
          `POST /api/profile/framing HTTP/2.0\r\nHost: gw\r\n${bearer(alice)}Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n${smuggled()}`,
      ],
    ])('refuses %s with 400 and closes the connection; nothing reaches the service', async (_name, request) => {
      const mark = received.length;
      const client = new RawConnection(port);
      await client.send(request());
      // Two answers if the hidden request was served, one and the end of the connection if not.
      const { responses, closed } = await client.read(2);
      expect(await receivedSince(mark)).toEqual([]);
      expect({ statuses: responses.map((r) => r.status), closed }).toEqual({ statuses: [400], closed: true });
    });

    // Spellings Node reads one way only: exactly one request reaches the service, with a framing of
    // its own (the gateway re-frames the body), and the connection serves the next request.
    it.each<[string, string, () => string]>([
      ['a Content-Length with leading zeros', 'Content-Length: 0004\r\n', () => 'abcd'],
      ['Transfer-Encoding: chunked followed by white space', 'Transfer-Encoding: chunked \r\n', () => '4\r\nabcd\r\n0\r\n\r\n'],
      ['a tab before chunked', 'Transfer-Encoding:\tchunked\r\n', () => '4\r\nabcd\r\n0\r\n\r\n'],
      ['chunk extensions', 'Transfer-Encoding: chunked\r\n', () => '4;name="v";x\r\nabcd\r\n0;end\r\n\r\n'],
      [
        'trailer fields naming a credential and an address',
        'Transfer-Encoding: chunked\r\n',
        () => `4\r\nabcd\r\n0\r\n${bearer(bob)}X-Forwarded-For: 6.6.6.6\r\n\r\n`,
      ],
    ])('forwards a body framed with %s exactly once, re-framed, and keeps serving the connection', async (_name, head, body) => {
      const mark = received.length;
      const client = new RawConnection(port);
      await client.send(framed(head, body()) + get('/api/me', bob));
      const { responses } = await client.read(2);
      client.destroy();
      expect(responses.map((r) => r.status)).toEqual([200, 200]);
      expect(responses[0].body).toBe('service got POST /profile/framing with "abcd"');
      // The follow-up is Bob's, the framed request Alice's: nothing carried over from one to the other.
      expect(JSON.parse(responses[1].body)).toMatchObject({ id: bob.id });
      const forwarded = received.slice(mark);
      expect(forwarded).toHaveLength(1);
      expect(forwarded[0].headers).toMatchObject({
        authorization: `Bearer ${alice.accessToken}`,
        'x-forwarded-for': '127.0.0.1',
        'content-length': '4',
      });
      expect(forwarded[0].headers['transfer-encoding']).toBeUndefined();
    });

    it('forwards a body that is itself a request as that body, never as a second request', async () => {
      const mark = received.length;
      const body = smuggled();
      const client = new RawConnection(port);
      await client.send(framed(`Content-Length: ${body.length}\r\n`, body) + get('/api/me', bob));
      const { responses } = await client.read(2);
      client.destroy();
      expect(responses.map((r) => r.status)).toEqual([200, 200]);
      expect(JSON.parse(responses[1].body)).toMatchObject({ id: bob.id });
      expect(await receivedSince(mark)).toEqual(['POST /profile/framing']);
      expect(received[mark].body).toBe(body);
    });

    it.each<[string, (body: string) => string]>([
      ['Content-Length', (body) => `Content-Length: ${body.length}\r\n\r\n${body}`],
      ['chunked', (body) => `Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`],
    ])('skips the %s body of a request it refused (401): the body is never run as a request', async (_name, bodyOf) => {
      const mark = received.length;
      const client = new RawConnection(port);
      await client.send(`POST /api/profile/refused HTTP/1.1\r\nHost: gw\r\n${bodyOf(smuggled())}${get('/api/me', bob)}`);
      const { responses } = await client.read(2);
      client.destroy();
      expect(responses.map((r) => r.status)).toEqual([401, 200]);
      expect(JSON.parse(responses[1].body)).toMatchObject({ id: bob.id });
      expect(await receivedSince(mark)).toEqual([]);
    });

    it('answers pipelined requests each as its own sender: Alice, Bob, then nobody', async () => {
      const client = new RawConnection(port);
      await client.send(get('/api/me', alice) + get('/api/me', bob) + get('/api/me'));
      const { responses } = await client.read(3);
      client.destroy();
      expect(responses.map((r) => r.status)).toEqual([200, 200, 401]);
      expect(responses.slice(0, 2).map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual([alice.id, bob.id]);
    });

    it('keeps two clients apart on the one pooled connection, however their requests interleave', async () => {
      const a = new RawConnection(port);
      const b = new RawConnection(port);
      await Promise.all([a.send(get('/api/me', alice).repeat(20)), b.send(get('/api/me', bob).repeat(20))]);
      const [fromA, fromB] = await Promise.all([a.read(20), b.read(20)]);
      a.destroy();
      b.destroy();
      expect(new Set(fromA.responses.map((r) => `${r.status} ${(JSON.parse(r.body) as { id: string }).id}`))).toEqual(
        new Set([`200 ${alice.id}`]),
      );
      expect(new Set(fromB.responses.map((r) => `${r.status} ${(JSON.parse(r.body) as { id: string }).id}`))).toEqual(
        new Set([`200 ${bob.id}`]),
      );
      expect([fromA.responses.length, fromB.responses.length]).toEqual([20, 20]);
    });

    it('verifies and forwards only the first of two Authorization lines', async () => {
      const client = new RawConnection(port);
      await client.send(get('/api/me', alice, `Authorization: Bearer ${bob.accessToken}\r\n`));
      const { responses } = await client.read(1);
      client.destroy();
      expect(responses[0].status).toBe(200);
      expect(JSON.parse(responses[0].body)).toMatchObject({ id: alice.id });
    });

    it('lets no Connection option strip or replace the address and signature the gateway sets', async () => {
      const mark = received.length;
      const client = new RawConnection(port);
      await client.send(
        get(
          '/api/profile/nominated',
          alice,
          'Connection: keep-alive, x-forwarded-for, x-forwarded-proto, x-gateway-signature, host\r\n' +
            'X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Gateway-Signature: forged\r\nX-Real-IP: 6.6.6.6\r\nForwarded: for=6.6.6.6\r\n',
        ),
      );
      expect((await client.read(1)).responses[0].status).toBe(200);
      client.destroy();
      const { headers, method, url } = received[mark];
      expect(headers).toMatchObject({ 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http' });
      expect(headers['x-real-ip']).toBeUndefined();
      expect(headers.forwarded).toBeUndefined();
      expect(headers.host).toBe(new URL(`http://127.0.0.1:${(service.address() as AddressInfo).port}`).host);
      const fields = { method, path: url, forwardedFor: '127.0.0.1', forwardedProto: 'http' };
      expect(verifyGatewaySignature(system.gatewaySecret, String(headers['x-gateway-signature']), fields, 30_000)).toBe(true);
    });

    it('fails closed when Connection names Authorization: the service refuses, nobody is served', async () => {
      const client = new RawConnection(port);
      await client.send(get('/api/me', alice, 'Connection: authorization\r\n'));
      const { responses } = await client.read(1);
      client.destroy();
      expect(responses[0].status).toBe(401);
    });

    it('honours no method override: a POST that asks to be a DELETE ends no session', async () => {
      const other = await login(system.gatewayUrl, alice.email, alice.password);
      const client = new RawConnection(port);
      const override = `POST /api/me/sessions?_method=DELETE HTTP/1.1\r\nHost: gw\r\n${bearer(alice)}X-HTTP-Method-Override: DELETE\r\nX-Method-Override: DELETE\r\nContent-Length: 0\r\n\r\n`;
      await client.send(override + get('/api/me', { ...alice, accessToken: other.accessToken }));
      const { responses } = await client.read(2);
      client.destroy();
      expect(responses.map((r) => r.status)).toEqual([404, 200]);
    });

    it('answers 100 Continue, then forwards the body once without the Expect field', async () => {
      const mark = received.length;
      const client = new RawConnection(port);
      await client.send(framed('Content-Length: 4\r\nExpect: 100-continue\r\n', ''));
      expect((await client.read(1)).responses.map((r) => r.status)).toEqual([100]);
      await client.send('abcd');
      const { responses } = await client.read(2);
      client.destroy();
      expect(responses.map((r) => r.status)).toEqual([100, 200]);
      expect(received.slice(mark).map((r) => [r.url, r.body, r.headers.expect])).toEqual([['/profile/framing', 'abcd', undefined]]);
    });

    it('answers an expectation it cannot meet with 417, reaching no service', async () => {
      const mark = received.length;
      const client = new RawConnection(port);
      await client.send(framed('Content-Length: 4\r\nExpect: something-else\r\n', 'abcd'));
      const { responses } = await client.read(1);
      client.destroy();
      expect(responses[0].status).toBe(417);
      expect(await receivedSince(mark)).toEqual([]);
    });

    it('serves an HTTP/1.0 client without keep-alive once, then closes, also for an answer of unknown length', async () => {
      for (const path of ['/api/profile/plain', '/api/profile/unknown-length']) {
        const client = new RawConnection(port);
        await client.send(`GET ${path} HTTP/1.0\r\n${bearer(alice)}\r\n`);
        const { responses, closed } = await client.closed();
        expect({ statuses: responses.map((r) => r.status), closed }).toEqual({ statuses: [200], closed: true });
        // HTTP/1.0 has no chunked coding: the end of the connection delimits the body.
        expect(responses[0].headers['transfer-encoding']).toBeUndefined();
        expect(responses[0].body).toMatch(/service got GET \/profile\//);
      }
    });

    it('closes a CONNECT or an HTTP/2 preface without reaching a service', async () => {
      const mark = received.length;
      for (const request of ['CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n']) {
        const client = new RawConnection(port);
        await client.send(request + smuggled());
        const { closed } = await client.closed();
        expect(closed).toBe(true);
      }
      expect(await receivedSince(mark)).toEqual([]);
    });

    // Node's server, with no 'upgrade' listener, serves an Upgrade request as an ordinary one but
    // drops the bytes that arrived with its head, then parses the connection from the next read on:
    // there, the body of a request a front proxy forwarded whole would be read as a request.
    it('serves an Upgrade request over HTTP/1.1 and then closes the connection: nothing after it is read as a request', async () => {
      const mark = received.length;
      const hidden = smuggled();
      const client = new RawConnection(port);
      await client.send(
        get(
          '/api/profile/upgrade',
          alice,
          'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n',
        ) + `POST /api/profile/outer HTTP/1.1\r\nHost: gw\r\n${bearer(alice)}Content-Length: ${hidden.length}\r\n\r\n`,
      );
      await client.read(1);
      // The outer request's body, in a read of its own.
      await client.send(hidden);
      const { responses, closed } = await client.read(2);
      expect(await receivedSince(mark)).toEqual(['GET /profile/upgrade']);
      expect(received[mark].headers.upgrade).toBeUndefined();
      expect(responses.map((r) => [r.status, r.headers.connection, r.headers.upgrade])).toEqual([[200, 'close', undefined]]);
      expect(closed).toBe(true);
    });

    it('answers 408 and closes the connection of a client that trickles its header lines, before any service sees it', async () => {
      const mark = received.length;
      const client = new RawConnection(port);
      await client.send('GET /api/profile/slow HTTP/1.1\r\nHost: gw\r\n');
      // A header line every 200 ms, for as long as the connection stays open (REQUEST_TIMEOUT_MS is 1 s).
      let line = 0;
      const drip = setInterval(() => void client.send(`X-Line-${line++}: 1\r\n`), 200);
      const { responses, closed } = await client.closed();
      clearInterval(drip);
      expect({ statuses: responses.map((r) => r.status), closed }).toEqual({ statuses: [408], closed: true });
      expect(await receivedSince(mark)).toEqual([]);
    });
  });

  describe('behind a service that answers badly', () => {
    let system: TestSystem;
    let user: TestUser;
    let upstream: TcpServer;
    let port: number;
    /** For each request the upstream read: its path and the upstream connection (numbered) it came on. */
    const requests: { path: string; connection: number }[] = [];
    const answers: Record<string, string | ((socket: Socket) => void)> = {};

    beforeAll(async () => {
      let connections = 0;
      upstream = createTcpServer((socket) => {
        const connection = ++connections;
        let buffered = '';
        socket.on('error', () => undefined);
        socket.on('data', (chunk: Buffer) => {
          buffered += chunk.toString('latin1');
          for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
            const head = buffered.slice(0, end);
            buffered = buffered.slice(end + 4 + Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0));
            const path = head.split(' ')[1];
            requests.push({ path, connection });
            const answer = answers[path] ?? `HTTP/1.1 200 OK\r\nContent-Length: ${`for ${path}`.length}\r\n\r\nfor ${path}`;
            if (typeof answer === 'string') socket.write(answer);
            else answer(socket);
          }
        });
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      system = await startTestSystem({
        label: 'gw_badup',
        gatewayEnv: {
          ...lenient,
          PROFILE_SERVICE_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
          UPSTREAM_MAX_SOCKETS: '1',
          UPSTREAM_TIMEOUT_MS: '2000',
        },
      });
      user = await registerAndLogin(system.gatewayUrl);
      port = Number(new URL(system.gatewayUrl).port);
    });

    afterAll(async () => {
      await system?.close();
      await new Promise((resolve) => upstream?.close(resolve));
    });

    const request = (path: string, method = 'GET') =>
      `${method} /api/profile/${path} HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer ${user.accessToken}\r\n\r\n`;

    /** One request answered by `answer`, then another client's request on the pooled connection. */
    async function answeredWith(
      name: string,
      answer: string | ((socket: Socket) => void),
      method = 'GET',
      afterAnswer?: () => Promise<void>,
    ) {
      answers[`/profile/${name}`] = answer;
      const client = new RawConnection(port, method === 'HEAD' ? new Set([0]) : new Set());
      await client.send(request(name, method));
      // The answer, and whether the client connection survived it (a request after it is served).
      const first = await client.read(1);
      await afterAnswer?.();
      await client.send(request(`${name}/same-client`));
      const afterwards = await client.read(2);
      client.destroy();
      const next = new RawConnection(port);
      await next.send(request(`${name}/next-client`));
      const nextClient = (await next.read(1)).responses[0];
      next.destroy();
      const connectionOf = (path: string) => requests.find((r) => r.path === `/profile/${path}`)?.connection;
      return {
        first: first.responses[0] as RawResponse | undefined,
        sameClient: afterwards.responses[1] as RawResponse | undefined,
        clientKept: afterwards.responses.length === 2 && !afterwards.closed,
        nextClient: `${nextClient.status} ${nextClient.body}`,
        pooledConnectionReused: connectionOf(`${name}/next-client`) === connectionOf(name),
      };
    }

    it.each<[string, string | ((socket: Socket) => void)]>([
      [
        'Content-Length and Transfer-Encoding',
        'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
      ],
      ['two different Content-Length lines', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\nokEVIL!'],
      ['a comma-listed Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 2, 7\r\n\r\nokEVIL!'],
      ['bare LF line ends', 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok'],
      ['a folded field (obs-fold)', 'HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok'],
      ['a control character in a field', 'HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 2\r\n\r\nok'],
      [
        '101 Switching Protocols to a request that asked for none',
        'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nEVIL!',
      ],
    ])('answers 502 to an answer with %s, keeps the client connection and never reuses that pooled connection', async (name, answer) => {
      const outcome = await answeredWith(name.replace(/\W+/g, '-'), answer);
      expect({ status: outcome.first?.status, kept: outcome.clientKept, reused: outcome.pooledConnectionReused }).toEqual({
        status: 502,
        kept: true,
        reused: false,
      });
      expect(outcome.nextClient).toBe(`200 for /profile/${name.replace(/\W+/g, '-')}/next-client`);
    });

    it.each<[string, string | ((socket: Socket) => void), string, string]>([
      [
        'a second response appended to the first',
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!',
        'extra',
        'GET',
      ],
      ['a body on an answer to HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!', 'head-body', 'HEAD'],
      [
        'a body on 304 Not Modified',
        'HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!',
        'not-modified-body',
        'GET',
      ],
    ])('gives nobody the bytes of %s, and drops that pooled connection', async (_name, answer, path, method) => {
      const outcome = await answeredWith(path, answer, method);
      expect(`${outcome.first?.body} ${outcome.sameClient?.body}`).not.toContain('EVIL');
      expect(outcome.nextClient).toBe(`200 for /profile/${path}/next-client`);
      expect(outcome.pooledConnectionReused).toBe(false);
    });

    // A stray answer that arrives after the next request was written cannot be told from its answer
    // (RFC 9112 §9.3.2); one that arrives while the connection is idle is caught.
    it('drops a pooled connection on which the service sent an answer to no request', async () => {
      let pooled: Socket | undefined;
      const outcome = await answeredWith(
        'stray',
        (socket) => {
          pooled = socket;
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
        },
        'GET',
        async () => {
          const closed = new Promise((resolve) => pooled?.once('close', resolve));
          pooled?.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!');
          await closed;
        },
      );
      expect(`${outcome.first?.body} ${outcome.sameClient?.body}`).toBe('ok for /profile/stray/same-client');
      expect(outcome.nextClient).toBe('200 for /profile/stray/next-client');
      expect(outcome.pooledConnectionReused).toBe(false);
    });

    it.each<[string, (socket: Socket) => void]>([
      ['closes mid-body', (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort', () => socket.destroy())],
      [
        'sends a chunk size that is not hexadecimal',
        (socket) => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n'),
      ],
      [
        'sends a chunk size that overflows',
        (socket) => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nok\r\n0\r\n\r\n'),
      ],
    ])('breaks the client connection off (never a short answer that looks whole) when the service %s', async (name, answer) => {
      const path = name.replace(/\W+/g, '-');
      answers[`/profile/${path}`] = answer;
      const client = new RawConnection(port);
      await client.send(request(path));
      const { responses, closed } = await client.closed();
      // Either the head went out and the body is cut short, or nothing whole reached the client.
      expect({ complete: responses.filter((r) => r.status === 200).length, closed }).toEqual({ complete: 0, closed: true });
      const next = new RawConnection(port);
      await next.send(request(`${path}/next-client`));
      const nextClient = (await next.read(1)).responses[0];
      next.destroy();
      expect(`${nextClient.status} ${nextClient.body}`).toBe(`200 for /profile/${path}/next-client`);
    });

    it('relays no hop-by-hop field of the answer, and keeps the client connection when the service closes its own', async () => {
      const outcome = await answeredWith(
        'hop-by-hop',
        'HTTP/1.1 200 OK\r\nConnection: close, x-internal\r\nX-Internal: secret\r\nKeep-Alive: timeout=1\r\nProxy-Connection: close\r\n' +
          'Upgrade: h2c\r\nTrailer: x-t\r\nTE: trailers\r\nContent-Length: 2\r\n\r\nok',
      );
      expect(outcome.first?.status).toBe(200);
      expect(outcome.first?.body).toBe('ok');
      for (const name of ['x-internal', 'proxy-connection', 'upgrade', 'trailer', 'te'])
        expect(outcome.first?.headers[name]).toBeUndefined();
      expect(outcome.first?.headers.connection).toBe('keep-alive');
      expect(outcome.first?.headers['keep-alive']).toBe('timeout=65');
      expect(outcome.clientKept).toBe(true);
      expect(outcome.pooledConnectionReused).toBe(false);
    });

    it('passes over interim answers (102, 103) and relays the final one', async () => {
      const outcome = await answeredWith(
        'interim',
        'HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      );
      expect([outcome.first?.status, outcome.first?.body, outcome.clientKept]).toEqual([200, 'ok', true]);
      expect(outcome.nextClient).toBe('200 for /profile/interim/next-client');
    });
  });
});
