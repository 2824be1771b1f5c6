import { BadRequestException, type ArgumentsHost } from '@nestjs/common';

import { DependencyUnavailableError } from './dependency-unavailable.error';
import { DomainError } from './domain-error';
import { DomainErrorFilter } from './domain-error.filter';

class LockedError extends DomainError {
  readonly kind = 'too_many_requests';
  constructor() {
    super('locked', 'Too many attempts', 42);
  }
}

function capture(exception: unknown, reportUnexpected?: (error: unknown) => void) {
  const out: { status?: number; body?: unknown; headers: Record<string, string> } = { headers: {} };
  const res = {
    headersSent: false,
    setHeader: (name: string, value: string) => (out.headers[name] = value),
    status: (status: number) => {
      out.status = status;
      return res;
    },
    json: (body: unknown) => (out.body = body),
  };
  const host = { switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
  new DomainErrorFilter(reportUnexpected).catch(exception, host);
  return out;
}

describe('DomainErrorFilter', () => {
  it('maps a domain error to its status, with Retry-After when it has one', () => {
    const out = capture(new LockedError());
    expect(out.status).toBe(429);
    expect(out.headers['Retry-After']).toBe('42');
    expect(out.body).toEqual({ statusCode: 429, message: 'Too many attempts', error: 'locked', retryAfter: 42 });
  });

  it('passes Nest HTTP exceptions through', () => {
    const out = capture(new BadRequestException(['email must be an email']));
    expect(out.status).toBe(400);
  });

  it('answers body-parser errors with their 4xx, without parser details', () => {
    const tooLarge = Object.assign(new Error('request entity too large'), { status: 413, type: 'entity.too.large' });
    expect(capture(tooLarge)).toMatchObject({ status: 413, body: { statusCode: 413, message: 'Request body too large' } });
    const charset = Object.assign(new Error('unsupported charset "UTF-7"'), { status: 415, type: 'charset.unsupported' });
    expect(capture(charset)).toMatchObject({
      status: 415,
      body: { statusCode: 415, message: 'Request body must be JSON encoded as UTF-8' },
    });
    const mediaType = Object.assign(new Error('x'), { status: 415, type: 'media-type.unsupported' });
    expect(capture(mediaType)).toMatchObject({
      status: 415,
      body: { statusCode: 415, message: 'Request body must be application/json' },
    });
    // An unknown type, even one named like an Object property, is a malformed body.
    const odd = Object.assign(new Error('x'), { status: 400, type: 'constructor' });
    expect(capture(odd)).toMatchObject({ status: 400, body: { statusCode: 400, message: 'Malformed request body' } });
  });

  it('answers a dependency outage with 503 and Retry-After, not 500, and names no dependency', () => {
    const redisDown = new DependencyUnavailableError('redis', new Error("Stream isn't writeable and enableOfflineQueue options is false"));
    const out = capture(redisDown);
    expect(out.status).toBe(503);
    expect(out.headers['Retry-After']).toBe('5');
    expect(out.body).toEqual({ statusCode: 503, message: 'Service temporarily unavailable', retryAfter: 5 });
    const pgTerminated = new DependencyUnavailableError('postgres', Object.assign(new Error('terminating connection'), { code: '57P01' }));
    expect(capture(pgTerminated).status).toBe(503);
  });

  it("gives the same status and body through Nest's own filter (an app without this one)", () => {
    const locked = new LockedError();
    expect(locked.getStatus()).toBe(429);
    expect(locked.getResponse()).toEqual({ statusCode: 429, message: 'Too many attempts', error: 'locked', retryAfter: 42 });
  });

  it('answers anything else with a generic 500 that carries no stack or message', () => {
    const out = capture(new TypeError('secret internal detail at /work/main/x.ts:1'));
    expect(out.status).toBe(500);
    expect(JSON.stringify(out.body)).not.toContain('secret');
    expect(JSON.stringify(out.body)).not.toContain('/work');
  });

  it('hands unexpected errors, and only those, to the reporter (Sentry when configured)', () => {
    const reported: unknown[] = [];
    const bug = new TypeError('x is undefined');
    capture(bug, (error) => reported.push(error));
    capture(new LockedError(), (error) => reported.push(error));
    capture(new BadRequestException('no'), (error) => reported.push(error));
    capture(new DependencyUnavailableError('redis', new Error('Connection is closed.')), (error) => reported.push(error));
    expect(reported).toEqual([bug]);
  });
});
