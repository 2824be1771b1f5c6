import { connect, type Socket } from 'node:net';

import { Controller, Get, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

import { settleWithin } from '@nest-hardening/testing';

import { configureHttpApp } from './configure-http-app';
import { ExpressHttpAdapter } from './express-http-adapter';

@Controller()
class SlowController {
  @Get('slow')
  async slow(): Promise<{ ok: true }> {
    await new Promise((resolve) => setTimeout(resolve, 500));
    return { ok: true };
  }

  @Get('fast')
  fast(): { ok: true } {
    return { ok: true };
  }
}

/** A keep-alive connection that records what it received and when the server closed it. */
async function keepAliveConnection(port: number): Promise<{ send(path: string): void; received: () => string; closed: Promise<void> }> {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  return {
    send: (path) => socket.write(`GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: keep-alive\r\n\r\n`),
    received: () => received,
    closed,
  };
}

describe('closing an app with requests under way on keep-alive connections', () => {
  let app: INestApplication;

  beforeEach(async () => {
    app = await NestFactory.create({ module: class DrainModule {}, controllers: [SlowController] }, new ExpressHttpAdapter(), {
      logger: false,
    });
    configureHttpApp(app, { trustedProxies: [], parseBodies: false });
    await app.listen(0, '127.0.0.1');
  });

  afterEach(() => app.close().catch(() => undefined));

  it('answers them, closes their connections and finishes closing at once, not after the keep-alive timeout', async () => {
    const { port } = app.getHttpServer().address() as { port: number };
    const busy = await keepAliveConnection(port);
    const idle = await keepAliveConnection(port);
    idle.send('/fast');
    await new Promise((resolve) => setTimeout(resolve, 100));
    busy.send('/slow');
    await new Promise((resolve) => setTimeout(resolve, 100));

    const started = Date.now();
    const closing = app.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    busy.send('/fast'); // arrives on the busy connection after the closing began
    await settleWithin(closing, 5000, undefined);
    const closeMs = Date.now() - started;
    const connections = await settleWithin(
      Promise.all([busy.closed, idle.closed]).then(() => 'closed'),
      1000,
      'open',
    );

    const answers = busy.received().split(/(?=HTTP\/1\.1 )/);
    expect(answers.map((answer) => answer.split('\r\n')[0])).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(answers[1]).toMatch(/\r\nconnection: close\r\n/i);
    expect(closeMs).toBeLessThan(2000);
    expect(connections).toBe('closed');
  });

  it('answers a request Nest answers in the same tick (an unknown path) during the drain, without throwing out of the server', async () => {
    // What would end a production process: Node's default for an uncaught exception.
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', record);
    try {
      const { port } = app.getHttpServer().address() as { port: number };
      const busy = await keepAliveConnection(port);
      busy.send('/slow');
      await new Promise((resolve) => setTimeout(resolve, 100));
      const closing = app.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      busy.send('/no-such-path'); // a scanner or a stale client, during a rolling deploy
      await settleWithin(closing, 3000, undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(uncaught.map(String)).toEqual([]);
      const answers = busy.received().split(/(?=HTTP\/1\.1 )/);
      expect(answers.map((answer) => answer.split('\r\n')[0])).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 404 Not Found']);
      expect(answers[1]).toMatch(/\r\nconnection: close\r\n/i);
    } finally {
      process.off('uncaughtException', record);
    }
  });
});
