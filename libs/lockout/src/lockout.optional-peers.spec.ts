import { deleteKeysWithPrefix, runWithoutModules, TEST_REDIS_URL, uniqueKeyPrefix } from '@nest-hardening/testing';

const APP = 'libs/lockout/test/without-optional-peers.app.ts';
const OPTIONAL_PEERS = ['@sentry/nestjs', 'nodemailer'];

describe('the lockout without its optional peers (@sentry/nestjs, nodemailer not installed)', () => {
  const prefix = uniqueKeyPrefix('lockout-peers');
  afterAll(() => deleteKeysWithPrefix(prefix));

  it('boots and locks: three wrong logins, then 429 even for the right password', async () => {
    const run = await runWithoutModules<{ statuses?: number[]; error?: string }>(APP, OPTIONAL_PEERS, {
      TEST_REDIS_URL,
      KEY_PREFIX: prefix,
    });
    expect(run.output).toEqual({ statuses: [401, 401, 401, 429, 429] });
    expect(run.code).toBe(0);
  });

  it('refuses to start when smtpUrl is set but nodemailer is missing, saying how to install it', async () => {
    const run = await runWithoutModules<{ error?: string }>(APP, OPTIONAL_PEERS, {
      TEST_REDIS_URL,
      KEY_PREFIX: prefix,
      FIXTURE_SMTP_URL: 'smtp://127.0.0.1:9',
    });
    expect(run.output.error).toBe('smtpUrl (SMTP_URL) is set but nodemailer is not installed: npm i nodemailer');
    expect(run.code).toBe(1);
  });
});
