import { Body, Controller, HttpCode, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import request from 'supertest';

import { configureHttpApp } from './configure-http-app';
import { ExpressHttpAdapter } from './express-http-adapter';

/** A route that keeps whatever names the client chose, as an app storing labels or preferences would. */
@Controller()
class LabelsController {
  @Post('labels')
  @HttpCode(200)
  labels(@Body() labels: Record<string, string>): { names: string[] } {
    return { names: Object.keys(labels) };
  }
}

describe('useJsonBodyParser: text that is not Unicode', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await NestFactory.create({ module: class LabelsModule {}, controllers: [LabelsController] }, new ExpressHttpAdapter(), {
      bodyParser: false,
      logger: false,
    });
    configureHttpApp(app, { trustedProxies: [], parseBodies: true });
    await app.init();
  });
  afterAll(() => app.close());

  const send = (json: string) => request(app.getHttpServer()).post('/labels').set('content-type', 'application/json').send(json);

  it('refuses a member name holding half a surrogate pair, as it refuses such a value', async () => {
    for (const json of ['{"a\\ud800":"x"}', '{"\\udfff":"x"}', '{"ok":{"\\ud800":"x"}}']) {
      const res = await send(json);
      expect({ json, status: res.status, body: res.body as unknown }).toEqual({
        json,
        status: 400,
        body: { statusCode: 400, message: 'Malformed request body' },
      });
    }
  });

  it('reads a member name escaped as a whole pair like any other', async () => {
    const res = await send('{"\\ud83d\\ude00":"x"}');
    expect({ status: res.status, body: res.body as unknown }).toEqual({ status: 200, body: { names: ['\u{1f600}'] } });
  });
});
