import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type * as Nodemailer from 'nodemailer';

import { failureReason } from '@nest-hardening/errors';

import { lockNoticeDevice } from './lock-notice-device';
import type { ResolvedLockoutOptions } from './lockout-options.interface';
import { RESOLVED_LOCKOUT_OPTIONS } from './lockout.module-definition';

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Largest first: a period is stated in the largest unit it holds at least twice (36 h: "36 hours"). */
const DURATION_UNITS: [number, string][] = [
  [DAY_MS, 'day'],
  [HOUR_MS, 'hour'],
  [MINUTE_MS, 'minute'],
  [SECOND_MS, 'second'],
];

/** Longest wait for the SMTP relay to connect, greet, or answer a command. */
const SMTP_TIMEOUT_MS = 10_000;

/** What the account owner is told about a lock. Holds no secret. */
export interface LockNotice {
  to: string;
  at: Date;
  lockedUntil: Date;
  /** The account-wide lock (too many failures in a row from any address), not one address's lock. */
  accountWide: boolean;
  ip: string;
  userAgent?: string;
}

/**
 * Sends lock emails over SMTP when `smtpUrl` is configured; otherwise does nothing. `nodemailer` is
 * an optional peer dependency, loaded only when `smtpUrl` is set.
 */
@Injectable()
export class LockoutNotifier implements OnModuleInit {
  private readonly logger = new Logger(LockoutNotifier.name);
  private readonly transport?: Nodemailer.Transporter;

  constructor(@Inject(RESOLVED_LOCKOUT_OPTIONS) private readonly options: ResolvedLockoutOptions) {
    if (options.smtpUrl) {
      // nodemailer waits up to 2 min to connect and 10 min for each answer by default: a hung relay
      // would hold every lock email (and a shutdown that waits for them) that long.
      this.transport = loadNodemailer().createTransport({
        url: options.smtpUrl,
        // One connection, reused for every email (see `send`); nodemailer queues the others.
        pool: true,
        maxConnections: 1,
        connectionTimeout: SMTP_TIMEOUT_MS,
        greetingTimeout: SMTP_TIMEOUT_MS,
        socketTimeout: SMTP_TIMEOUT_MS,
        requireTLS: sendsCredentialsOverSmtp(options.smtpUrl),
      });
    }
  }

  onModuleInit(): void {
    if (!this.transport) this.logger.log('Lock notification emails are disabled: no smtpUrl configured');
  }

  get enabled(): boolean {
    return this.transport !== undefined;
  }

  /**
   * Queues the email on the transport's one connection: relays cap the connections of one client
   * (Microsoft 365 allows 3) and refuse the rest, so a wave of locks must not open one each, and a
   * relay that stops answering holds one socket, not a socket per account. How many may wait is
   * bounded by the caller ({@link LockoutService}), before it takes the owner's email of the hour.
   */
  async send(notice: LockNotice): Promise<void> {
    if (!this.transport) return;
    await this.transport.sendMail({
      from: this.options.mailFrom,
      to: notice.to,
      subject: 'Sign-in to your account was temporarily locked',
      text: lockNoticeText(notice, this.options),
    });
  }

  /**
   * Ends the relay connection, the one carrying an email included (a plain close lets that email
   * run to the relay's timeouts after shutdown); emails still waiting fail. For shutdown, once
   * they had their time.
   */
  close(): void {
    this.transport?.close({ force: true });
  }
}

/**
 * Whether the URL logs in over `smtp://`, where nodemailer upgrades with STARTTLS only if the relay
 * offers it: an on-path attacker who strips the offer reads the password, and can then send mail as
 * the service's domain. Such a URL must upgrade or send nothing; `?requireTLS=false` in the URL
 * still turns this off (a relay on the same host).
 */
function sendsCredentialsOverSmtp(smtpUrl: string): boolean {
  const url = new URL(smtpUrl);
  return url.protocol === 'smtp:' && (url.username !== '' || url.password !== '');
}

function loadNodemailer(): typeof Nodemailer {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('nodemailer') as typeof Nodemailer;
  } catch (error) {
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes("'nodemailer'")) {
      throw new Error('smtpUrl (SMTP_URL) is set but nodemailer is not installed: npm i nodemailer');
    }
    throw error;
  }
}

/** The email body: when, from where, and how the lock lifts. */
export function lockNoticeText(notice: LockNotice, options: Pick<ResolvedLockoutOptions, 'productName' | 'knownAddressTtlMs'>): string {
  const { productName } = options;
  const facts = [
    '',
    `When: ${notice.at.toISOString()}`,
    `${notice.accountWide ? 'Last attempt from address' : 'From address'}: ${notice.ip}`,
    `Browser / device: ${lockNoticeDevice(notice.userAgent)}`,
    '',
  ];
  if (!notice.accountWide) {
    return [
      `Sign-in to ${productName} was temporarily locked after repeated failed password attempts.`,
      ...facts,
      `The lock lifts by itself at ${notice.lockedUntil.toISOString()}; you do not need to do anything.`,
      'If these attempts were not yours, consider changing your password once you can sign in again.',
    ].join('\n');
  }
  // Holds for months unless the owner acts: "it lifts by itself" would leave them locked out. What
  // it spares is an address (an IPv6 /64) with a successful login within knownAddressTtlMs, whatever
  // the device: the owner's own browser on another network is refused.
  return [
    `Sign-in to ${productName} was locked after too many failed password attempts in a row, except from internet connections you signed in from recently.`,
    ...facts,
    `You can still sign in from an internet connection (network address) you signed in from in the last ${duration(options.knownAddressTtlMs)}, on any device; doing so lifts the lock.`,
    `Otherwise it lifts at ${notice.lockedUntil.toISOString()}, or when support unlocks your account.`,
    'These attempts were probably not yours: once signed in, change your password.',
  ].join('\n');
}

/**
 * A period as the email states it, rounded down, never up: a longer one tells the owner that an
 * address still signs in when it no longer does. Below two seconds it is given in milliseconds.
 */
function duration(ms: number): string {
  const [size, unit] = DURATION_UNITS.find(([size]) => ms >= 2 * size) ?? [1, 'millisecond'];
  const count = Math.floor(ms / size);
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/**
 * A failed lock email as the log may show it. A relay's refusal quotes the recipient
 * (`550 5.1.1 <ada@example.com>: Recipient address rejected`), and nodemailer puts that reply into
 * its error message: the recipient, and anything else shaped like an address, is left out, as every
 * other email in the log is only a pseudonym.
 */
export function notificationFailure(error: unknown, recipient: string): string {
  const message = failureReason(error);
  const escaped = recipient.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return message.replace(new RegExp(escaped, 'gi'), '<recipient>').replace(/[^\s<>()[\],;:]+@[^\s<>()[\],;:]+/g, '<address>');
}
