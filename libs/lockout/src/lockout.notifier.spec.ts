import { Logger } from '@nestjs/common';
import { SMTPServer } from 'smtp-server';

import { freePort, settleWithin, startSmtpReceiver, startTcpRelay, type SmtpReceiver } from '@nest-hardening/testing';

import { startLoginTestApp, TEST_PASSWORD, type LoginTestApp } from '../test/support/login-test-app';
import type { LockoutAccountDirectory } from './lockout-account-directory.interface';

jest.setTimeout(20_000);

const OWNER = 'owner@example.com';
const directory: LockoutAccountDirectory = {
  findById: async (id) => (id === 'acc-1' ? { id, email: OWNER } : null),
  findByEmail: async (email) => (email === OWNER ? { id: 'acc-1', email: OWNER } : null),
};

describe('Lock notification emails (real SMTP receiver)', () => {
  let smtp: SmtpReceiver;
  let t: LoginTestApp;

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    t = await startLoginTestApp(
      { baseLockMs: 1_000, pairWindowMs: 60_000, notificationIntervalMs: 60 * 60_000, smtpUrl: smtp.url, accountDirectory: directory },
      [OWNER],
    );
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  async function lockFrom(email: string, ip: string): Promise<void> {
    for (let i = 0; i < 5; i++) expect((await t.login(email, 'hunter2-wrong', ip)).status).toBe(401);
    expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(429);
    await t.lockout.flushNotifications();
  }

  it('sends the owner one email for two locks within the interval, saying when and from where, without the password', async () => {
    await lockFrom(OWNER, '10.2.0.1');
    await lockFrom(OWNER, '10.2.0.2');

    const [mail] = await smtp.waitFor(1);
    expect(smtp.messages).toHaveLength(1);
    expect(mail.to).toEqual([OWNER]);
    expect(mail.raw).toContain('10.2.0.1');
    expect(mail.raw).toContain('LockoutTest/1.0');
    expect(mail.raw).toMatch(/lifts by itself/);
    expect(mail.raw).not.toContain('hunter2-wrong');
    expect(mail.raw).not.toContain(TEST_PASSWORD);
  });

  it('sends nothing for an unknown email', async () => {
    const before = smtp.messages.length;
    await lockFrom('ghost@example.com', '10.2.0.3');
    expect(smtp.messages).toHaveLength(before);
  });
});

describe('Lock notification emails when the SMTP relay stops answering', () => {
  it('does not hold the shutdown for the relay: the email under way gets a few seconds', async () => {
    const smtp = await startSmtpReceiver();
    // The relay greets, then never answers EHLO: an overloaded or hung mail server.
    const relay = await startTcpRelay(Number(new URL(smtp.url).port));
    relay.holdClientBytes((chunk) => /^(EHLO|HELO) /i.test(chunk.toString('latin1')));
    const t = await startLoginTestApp(
      {
        baseLockMs: 1_000,
        pairWindowMs: 60_000,
        notificationIntervalMs: 60 * 60_000,
        smtpUrl: `smtp://127.0.0.1:${relay.port}`,
        accountDirectory: directory,
      },
      [OWNER],
    );
    try {
      for (let i = 0; i < 5; i++) expect((await t.login(OWNER, 'hunter2-wrong', '10.2.1.1')).status).toBe(401);
      const started = Date.now();
      const closed = t.app.close().then(() => 'closed');
      const outcome = await settleWithin(closed, 9_000, 'still closing after 9 s');
      expect(outcome).toBe('closed');
      expect(smtp.messages).toHaveLength(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(4_000); // it did wait for the email, within bounds
    } finally {
      await relay.close(); // ends the email still waiting, so the second close does not wait for it
      await t.close().catch(() => undefined);
      await smtp.close();
    }
  });
});

describe('Lock notification emails when the relay refuses the recipient', () => {
  it('logs the failure without the raw email the relay quotes back', async () => {
    // A relay that refuses the owner's mailbox the way Postfix does, quoting the address in its reply.
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo(address, _session, callback) {
        const refusal = Object.assign(new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`), {
          responseCode: 550,
        });
        callback(refusal);
      },
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const t = await startLoginTestApp(
      { baseLockMs: 1_000, pairWindowMs: 60_000, smtpUrl: `smtp://127.0.0.1:${port}`, accountDirectory: directory },
      [OWNER],
    );
    try {
      for (let i = 0; i < 5; i++) expect((await t.login(OWNER, 'hunter2-wrong', '10.2.2.1')).status).toBe(401);
      await t.lockout.flushNotifications();
      const lines = warn.mock.calls.map((args) => args.map(String).join(' '));
      expect(lines.some((line) => line.includes('Lock notification failed'))).toBe(true);
      expect(lines.filter((line) => line.toLowerCase().includes(OWNER))).toEqual([]);
    } finally {
      warn.mockRestore();
      await t.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
