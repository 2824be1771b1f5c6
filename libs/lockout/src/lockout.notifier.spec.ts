import { Logger } from '@nestjs/common';
import { SMTPServer } from 'smtp-server';

import {
  eventually,
  freePort,
  settleWithin,
  startSilentListener,
  startSmtpReceiver,
  startTcpRelay,
  type SmtpReceiver,
} from '@nest-hardening/testing';

import { startLoginTestApp, TEST_PASSWORD, type LoginTestApp } from '../test/support/login-test-app';
import type { LockoutAccountDirectory } from './lockout-account-directory.interface';
import { MAX_WAITING_LOCK_EMAILS } from './lockout.service';

jest.setTimeout(20_000);

const OWNER = 'owner@example.com';
const directory: LockoutAccountDirectory = {
  findById: async (id) => (id === 'acc-1' ? { id, email: OWNER } : null),
  findByEmail: async (email) => (email === OWNER ? { id: 'acc-1', email: OWNER } : null),
};

/** A directory of these accounts, each email its own id. */
function directoryOf(emails: string[]): LockoutAccountDirectory {
  return {
    findById: async (id) => (emails.includes(id) ? { id, email: id } : null),
    findByEmail: async (email) => (emails.includes(email) ? { id: email, email } : null),
  };
}

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
    expect(mail.text).toContain('From address: 10.2.0.1');
    expect(mail.text).toMatch(/Browser \/ device: /);
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

describe('Lock notification emails name the device without repeating what the client sent', () => {
  const owners = ['ua-link@example.com', 'ua-plain@example.com', 'ua-number@example.com'];
  let smtp: SmtpReceiver;
  let t: LoginTestApp;

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    t = await startLoginTestApp(
      { baseLockMs: 1_000, pairWindowMs: 60_000, smtpUrl: smtp.url, accountDirectory: directoryOf(owners) },
      owners,
    );
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  async function lockWith(email: string, ip: string, userAgent: string): Promise<string> {
    for (let i = 0; i < 5; i++) expect((await t.login(email, 'hunter2-wrong', ip, '/login', userAgent)).status).toBe(401);
    await t.lockout.flushNotifications();
    const mail = smtp.messages.find((m) => m.to.includes(email));
    if (!mail) throw new Error(`no lock email for ${email}`);
    return mail.text;
  }

  it('names a recognised browser and system, and carries no link or sentence written into the user agent', async () => {
    // The attacker's own request: its user agent would otherwise reach the owner in an email the
    // service's domain signs, a phishing link that passes SPF and DKIM.
    const phishing =
      'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 To keep your account call +1 555 0100 or visit https://unlock.evil.example/now';
    const text = await lockWith(owners[0], '10.2.3.1', phishing);
    expect(text).toContain('Browser / device: Firefox 128 on Linux');
    expect(text).not.toMatch(/evil|https?:|call|555/i);
  });

  it('says the device is not recognised rather than quoting an unknown user agent', async () => {
    const text = await lockWith(owners[1], '10.2.3.2', 'Your account is compromised: reply with your password to security-desk.example');
    expect(text).toContain('Browser / device: not recognised');
    expect(text).not.toMatch(/compromised|password to|security-desk/i);
  });

  it('names a recognised browser without a version number the client made up', async () => {
    // The version is digits only, but as many as the attacker writes: a phone number to call.
    const text = await lockWith(owners[2], '10.2.3.3', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/18005550100');
    expect(text).toContain('Browser / device: Firefox on Linux');
    expect(text).not.toContain('18005550100');
  });
});

describe('Lock notification emails of the account-wide lock', () => {
  it('reach the owner after a pair lock was emailed that hour, saying how the lock lifts rather than "by itself"', async () => {
    // The attacker's pair locks spend the owner's email of the hour ("lifts by itself" within
    // minutes); the account-wide lock that follows holds for new addresses until the owner acts.
    const smtp = await startSmtpReceiver();
    const owners = ['ceiling-owner@example.com'];
    const t = await startLoginTestApp(
      {
        pairWindowMs: 60_000,
        emailMaxFailures: 6,
        notificationIntervalMs: 60 * 60_000,
        smtpUrl: smtp.url,
        accountDirectory: directoryOf(owners),
      },
      owners,
    );
    try {
      for (let i = 0; i < 5; i++) expect((await t.login(owners[0], 'hunter2-wrong', '10.2.11.1')).status).toBe(401);
      await t.lockout.flushNotifications();
      expect((await t.login(owners[0], 'hunter2-wrong', '10.2.11.2')).status).toBe(401); // the 6th in a row
      await t.lockout.flushNotifications();
      expect((await t.login(owners[0], 'hunter2-wrong', '10.2.11.3')).status).toBe(429);

      expect(smtp.messages.map((m) => m.to)).toEqual([owners, owners]);
      const [pair, accountWide] = smtp.messages.map((m) => m.text);
      expect(pair).toContain('lifts by itself');
      expect(accountWide).toContain('except from internet connections you signed in from recently');
      expect(accountWide).toContain('you signed in from in the last 30 days');
      expect(accountWide).toContain('change your password');
      expect(accountWide).not.toContain('you do not need to do anything');
    } finally {
      await t.close();
      await smtp.close();
    }
  });
});

describe('Lock notification emails of the account-wide lock tell the owner what still signs in', () => {
  it('an internet connection that signed in within the configured period, not a device', async () => {
    // The ceiling spares the addresses (IPv6: /64 networks) of recent successful logins, whatever
    // the device: the owner's own browser on a new network is refused, another one on a known
    // network signs in. An email that says "device" sends the owner to the wrong place for months.
    const smtp = await startSmtpReceiver();
    const owners = ['ceiling-known@example.com'];
    const t = await startLoginTestApp(
      {
        pairWindowMs: 60_000,
        emailMaxFailures: 6,
        knownAddressTtlMs: 7 * 24 * 60 * 60_000,
        notificationIntervalMs: 60 * 60_000,
        smtpUrl: smtp.url,
        accountDirectory: directoryOf(owners),
      },
      owners,
    );
    const ownBrowser = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
    try {
      expect((await t.login(owners[0], TEST_PASSWORD, '10.2.12.1', '/login', ownBrowser)).status).toBe(200);
      for (let i = 0; i < 6; i++) expect((await t.login(owners[0], 'hunter2-wrong', `10.2.13.${i}`)).status).toBe(401);
      await t.lockout.flushNotifications();

      expect((await t.login(owners[0], TEST_PASSWORD, '10.2.14.1', '/login', ownBrowser)).status).toBe(429);
      expect((await t.login(owners[0], TEST_PASSWORD, '10.2.12.1', '/login', 'curl/8.5.0')).status).toBe(200);

      const [mail] = await smtp.waitFor(1);
      expect(mail.text).not.toContain('device you signed in from');
      expect(mail.text).toContain('from an internet connection (network address) you signed in from in the last 7 days');
    } finally {
      await t.close();
      await smtp.close();
    }
  });
});

describe('Lock notification emails of the account-wide lock with a known-address period under a minute', () => {
  it('never state a longer period than the one that keeps an address known', async () => {
    // Rounded down to whole minutes with a floor of one, 45 s read "in the last 1 minute": an owner
    // who signed in 50 s before would be told that connection still signs in, and be refused.
    const smtp = await startSmtpReceiver();
    const owners = ['ceiling-seconds@example.com'];
    const t = await startLoginTestApp(
      {
        pairWindowMs: 60_000,
        emailMaxFailures: 6,
        knownAddressTtlMs: 45_000,
        notificationIntervalMs: 60 * 60_000,
        smtpUrl: smtp.url,
        accountDirectory: directoryOf(owners),
      },
      owners,
    );
    try {
      expect((await t.login(owners[0], TEST_PASSWORD, '10.2.15.1')).status).toBe(200);
      for (let i = 0; i < 6; i++) expect((await t.login(owners[0], 'hunter2-wrong', `10.2.16.${i}`)).status).toBe(401);
      await t.lockout.flushNotifications();

      const [mail] = await smtp.waitFor(1);
      expect(mail.text).toContain('you signed in from in the last 45 seconds, on any device');
    } finally {
      await t.close();
      await smtp.close();
    }
  });
});

describe('Lock notification emails of several accounts locked at once', () => {
  it('reach a relay that serves one connection at a time: one email at a time, none refused', async () => {
    // Relays cap concurrent connections per client (Microsoft 365 allows 3 for SMTP AUTH) and answer 421 beyond.
    const smtp = await startSmtpReceiver({ maxClients: 1 });
    const owners = ['wave-1@example.com', 'wave-2@example.com', 'wave-3@example.com', 'wave-4@example.com'];
    const t = await startLoginTestApp(
      { baseLockMs: 1_000, pairWindowMs: 60_000, smtpUrl: smtp.url, accountDirectory: directoryOf(owners) },
      owners,
    );
    try {
      for (const [i, email] of owners.entries()) {
        for (let n = 0; n < 4; n++) expect((await t.login(email, 'hunter2-wrong', `10.2.4.${i + 1}`)).status).toBe(401);
      }
      // The four locks start together, as a wave of locks from many addresses does.
      const fifth = await Promise.all(owners.map((email, i) => t.login(email, 'hunter2-wrong', `10.2.4.${i + 1}`)));
      expect(fifth.map((res) => res.status)).toEqual([401, 401, 401, 401]);
      await t.lockout.flushNotifications();
      expect(smtp.messages.flatMap((m) => m.to).sort()).toEqual(owners);
    } finally {
      await t.close();
      await smtp.close();
    }
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

describe('Lock notification emails while the SMTP relay never answers', () => {
  it('hold one connection to the relay and at most MAX_WAITING_LOCK_EMAILS emails, however many accounts are locked', async () => {
    const relay = await startSilentListener();
    const owners = Array.from({ length: MAX_WAITING_LOCK_EMAILS + 5 }, (_, i) => `backlog-${i}@example.com`);
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const t = await startLoginTestApp(
      { pairMaxFailures: 1, baseLockMs: 1_000, smtpUrl: `smtp://127.0.0.1:${relay.port}`, accountDirectory: directoryOf(owners) },
      owners,
    );
    try {
      for (const [i, email] of owners.entries()) expect((await t.login(email, 'hunter2-wrong', `10.2.5.${i}`)).status).toBe(401);
      await new Promise((resolve) => setTimeout(resolve, 200)); // the last lock's email reaches the queue
      expect(relay.openConnections()).toBe(1);
      const dropped = warn.mock.calls.filter((args) => String(args[0]).startsWith('Lock notification dropped'));
      expect(dropped.length).toBeGreaterThanOrEqual(1);
    } finally {
      warn.mockRestore();
      await t.close();
      await relay.close();
    }
  });

  it("are given up at shutdown with the connection to the relay closed, not left to the relay's timeouts", async () => {
    const relay = await startSilentListener();
    const t = await startLoginTestApp(
      { pairMaxFailures: 1, baseLockMs: 1_000, smtpUrl: `smtp://127.0.0.1:${relay.port}`, accountDirectory: directory },
      [OWNER],
    );
    try {
      expect((await t.login(OWNER, 'hunter2-wrong', '10.2.5.200')).status).toBe(401);
      expect(await eventually(async () => relay.openConnections() === 1)).toBe(true);
      await t.close(); // waits its few seconds for the email, then gives it up
      // Well within the relay's 10 s to greet, which would otherwise end the connection (and the
      // email's promise) after the app has shut down.
      expect(await eventually(async () => relay.openConnections() === 0)).toBe(true);
    } finally {
      await relay.close();
    }
  });
});

describe('Lock notification emails dropped while MAX_WAITING_LOCK_EMAILS are waiting', () => {
  it('leave the owner their email of the hour: the next lock of their account is emailed once the relay catches up', async () => {
    // Others' locks fill the queue while the relay is slow; the target's lock comes on top of them.
    const smtp = await startSmtpReceiver();
    const relay = await startTcpRelay(Number(new URL(smtp.url).port));
    relay.holdClientBytes((chunk) => /^(EHLO|HELO) /i.test(chunk.toString('latin1')));
    const others = Array.from({ length: MAX_WAITING_LOCK_EMAILS }, (_, i) => `queue-${i}@example.com`);
    const target = 'queue-target@example.com';
    const t = await startLoginTestApp(
      {
        pairMaxFailures: 1,
        baseLockMs: 1_000,
        smtpUrl: `smtp://127.0.0.1:${relay.port}`,
        accountDirectory: directoryOf([...others, target]),
      },
      [...others, target],
    );
    try {
      // Together, so the queue is full well within the relay's 10 s to answer EHLO.
      const locks = await Promise.all(others.map((email, i) => t.login(email, 'hunter2-wrong', `10.2.7.${i}`)));
      expect(locks.every((res) => res.status === 401)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 200)); // their emails reach the queue
      expect((await t.login(target, 'hunter2-wrong', '10.2.8.1')).status).toBe(401);
      await new Promise((resolve) => setTimeout(resolve, 200)); // the target's email is dropped
      relay.release();
      await t.lockout.flushNotifications();
      expect(smtp.messages.filter((m) => m.to.includes(target))).toHaveLength(0);

      // A lock from another address: the owner has had no email this hour, so this one is sent.
      expect((await t.login(target, 'hunter2-wrong', '10.2.8.2')).status).toBe(401);
      await t.lockout.flushNotifications();
      expect(smtp.messages.filter((m) => m.to.includes(target))).toHaveLength(1);
    } finally {
      await t.close();
      await relay.close();
      await smtp.close();
    }
  });
});

describe('Lock notification emails while the account directory answers slowly', () => {
  it("are not dropped for locks of unknown emails: only owners' emails count towards MAX_WAITING_LOCK_EMAILS", async () => {
    // Locks of emails that belong to no account need no knowledge of any account; while the
    // directory is slow (its database busy with the very logins that caused them) their lookups
    // must not use up the room kept for emails, or they silence the lock of a real account.
    const smtp = await startSmtpReceiver();
    const target = 'lookup-target@example.com';
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const owners = directoryOf([target]);
    const t = await startLoginTestApp(
      {
        pairMaxFailures: 1,
        baseLockMs: 1_000,
        smtpUrl: smtp.url,
        accountDirectory: { ...owners, findByEmail: async (email) => opened.then(() => owners.findByEmail(email)) },
      },
      [target],
    );
    try {
      const ghosts = Array.from({ length: MAX_WAITING_LOCK_EMAILS }, (_, i) => `ghost-${i}@example.com`);
      const locks = await Promise.all(ghosts.map((email, i) => t.login(email, 'hunter2-wrong', `10.2.9.${i}`)));
      expect(locks.every((res) => res.status === 401)).toBe(true);
      expect((await t.login(target, 'hunter2-wrong', '10.2.10.1')).status).toBe(401);
      open();
      await t.lockout.flushNotifications();
      expect(smtp.messages.filter((m) => m.to.includes(target))).toHaveLength(1);
    } finally {
      await t.close();
      await smtp.close();
    }
  });
});

describe('Lock notification emails through a relay that offers no STARTTLS', () => {
  it('never sends the relay password of an smtp:// URL in clear text', async () => {
    // What an on-path attacker sees after stripping STARTTLS from the relay's EHLO answer: with the
    // password, they could send mail as the service's own domain.
    const passwords: string[] = [];
    const server = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onAuth(auth, _session, callback) {
        passwords.push(String(auth.password));
        callback(null, { user: auth.username });
      },
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    const owners = ['relay-auth@example.com'];
    const t = await startLoginTestApp(
      { baseLockMs: 1_000, smtpUrl: `smtp://alerts:relay-s3cret@127.0.0.1:${port}`, accountDirectory: directoryOf(owners) },
      owners,
    );
    try {
      for (let i = 0; i < 5; i++) expect((await t.login(owners[0], 'hunter2-wrong', '10.2.6.1')).status).toBe(401);
      await t.lockout.flushNotifications();
      expect(passwords).toEqual([]);
    } finally {
      await t.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
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

describe('Lock notification emails of an account stored under a spelling now refused', () => {
  it('are not sent: mail to that spelling would land in another address', async () => {
    // Registered before isCountableEmail refused it; nodemailer reads the line separator as the end
    // of a display name, so mail to it reaches `victim@example.com`. A password change locks it
    // through LockoutService as this test does (its email comes from the account, not a body).
    const stored = 'x\u2028victim@example.com';
    const smtp = await startSmtpReceiver();
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const t = await startLoginTestApp(
      { baseLockMs: 1_000, pairWindowMs: 60_000, smtpUrl: smtp.url, accountDirectory: directoryOf([stored]) },
      [stored],
    );
    try {
      for (let i = 0; i < 5; i++) {
        const decision = await t.lockout.reserve(stored, '10.2.4.1');
        if (!decision.allowed) throw new Error('locked before the fifth failure');
        await t.lockout.recordFailure(decision.reservation);
      }
      expect((await t.lockout.getState(stored, '10.2.4.1')).locked).toBe(true);
      await t.lockout.flushNotifications();
      expect(smtp.messages).toEqual([]);
      const lines = warn.mock.calls.map((args) => args.map(String).join(' '));
      expect(lines.some((line) => line.includes('Lock notification not sent'))).toBe(true);
    } finally {
      warn.mockRestore();
      await t.close();
      await smtp.close();
    }
  });
});
