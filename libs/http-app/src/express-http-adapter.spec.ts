import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { setFlagsFromString } from 'node:v8';

import { Controller, Get, Req, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Express, Request } from 'express';
import request from 'supertest';

import { ExpressHttpAdapter } from './express-http-adapter';

// V8's own answer to "are this object's properties in fast mode?"; natives syntax is only parsed
// in functions compiled after the flag is set.
setFlagsFromString('--allow-natives-syntax');
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- V8 natives syntax can only be compiled at run time
const hasFastProperties = new Function('object', 'return %HasFastProperties(object)') as (object: object) => boolean;

@Controller()
class ProbeController {
  @Get('probe')
  probe(@Req() req: Request): { header: string | undefined; ip: string | undefined; path: string } {
    return { header: req.get('x-probe'), ip: req.ip, path: req.path };
  }
}

describe('ExpressHttpAdapter', () => {
  let app: INestApplication;
  let express: Express;
  const prototypes: { request: boolean; response: boolean }[] = [];
  const fastProperties: { request: boolean; response: boolean }[] = [];

  beforeAll(async () => {
    const adapter = new ExpressHttpAdapter();
    express = adapter.getInstance<Express>();
    app = await NestFactory.create({ module: class ProbeModule {}, controllers: [ProbeController] }, adapter, { logger: false });
    await app.init();
    // Runs before Express sees the request: what Node created, not what Express made of it.
    (app.getHttpServer() as Server).prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
      prototypes.push({
        request: Object.getPrototypeOf(req) === express.request,
        response: Object.getPrototypeOf(res) === express.response,
      });
      // After the handler: every property Node, Express and Nest add has been added.
      res.once('finish', () => fastProperties.push({ request: hasFastProperties(req), response: hasFastProperties(res) }));
    });
  });
  afterAll(async () => app.close());

  it("has Node create requests and responses with Express's prototypes", async () => {
    const agent = request.agent(app.getHttpServer());
    for (let i = 0; i < 3; i++) await agent.get('/probe').expect(200);
    expect(prototypes).toHaveLength(3);
    expect(prototypes.every((p) => p.request && p.response)).toBe(true);
  });

  it('keeps requests and responses in fast-properties mode through a whole request', async () => {
    fastProperties.length = 0;
    await request(app.getHttpServer()).get('/probe').expect(200);
    expect(fastProperties).toEqual([{ request: true, response: true }]);
  });

  it('keeps the Express request and response API working', async () => {
    const res = await request(app.getHttpServer()).get('/probe?x=1').set('X-Probe', 'yes').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ header: 'yes', ip: expect.stringMatching(/127\.0\.0\.1$/), path: '/probe' });
  });
});
