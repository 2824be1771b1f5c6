import { deleteKeysWithPrefix, runWithoutModules, TEST_REDIS_URL, uniqueKeyPrefix } from '@nest-hardening/testing';

const APP = 'libs/rate-limit/test/without-optional-peers.app.ts';
const OPTIONAL_PEERS = ['@sentry/nestjs', 'nodemailer'];

describe('the rate limiter without its optional peers (@sentry/nestjs, nodemailer not installed)', () => {
  const prefix = uniqueKeyPrefix('rate-limit-peers');
  afterAll(() => deleteKeysWithPrefix(prefix));

  it('boots and limits: the fourth request over a limit of three is refused', async () => {
    const run = await runWithoutModules<{ statuses?: number[]; error?: string }>(APP, OPTIONAL_PEERS, {
      TEST_REDIS_URL,
      KEY_PREFIX: prefix,
    });
    expect(run.output).toEqual({ statuses: [200, 200, 200, 429] });
    expect(run.code).toBe(0);
  });

  it('refuses to start when SENTRY_DSN is set but @sentry/nestjs is missing, saying how to install it', async () => {
    const run = await runWithoutModules<{ error?: string }>(APP, OPTIONAL_PEERS, {
      TEST_REDIS_URL,
      KEY_PREFIX: prefix,
      FIXTURE_SENTRY_DSN: 'http://public@127.0.0.1:9/1',
    });
    expect(run.output.error).toBe('SENTRY_DSN is set but @sentry/nestjs is not installed: npm i @sentry/nestjs');
    expect(run.code).toBe(1);
  });
});
