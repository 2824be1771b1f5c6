import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type * as Nodemailer from 'nodemailer';

import type { ResolvedLockoutOptions } from './lockout-options.interface';
import { RESOLVED_LOCKOUT_OPTIONS } from './lockout.module-definition';

/** Longest wait for the SMTP relay to connect, greet, or answer a command. */
const SMTP_TIMEOUT_MS = 10_000;

/** What the account owner is told about a lock. Holds no secret. */
export interface LockNotice {
  to: string;
  at: Date;
  lockedUntil: Date;
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
        connectionTimeout: SMTP_TIMEOUT_MS,
        greetingTimeout: SMTP_TIMEOUT_MS,
        socketTimeout: SMTP_TIMEOUT_MS,
      });
    }
  }

  onModuleInit(): void {
    if (!this.transport) this.logger.log('Lock notification emails are disabled: no smtpUrl configured');
  }

  get enabled(): boolean {
    return this.transport !== undefined;
  }

  async send(notice: LockNotice): Promise<void> {
    if (!this.transport) return;
    await this.transport.sendMail({
      from: this.options.mailFrom,
      to: notice.to,
      subject: 'Sign-in to your account was temporarily locked',
      text: lockNoticeText(notice, this.options.productName),
    });
  }
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

/** The email body: when, from where, and that the lock lifts by itself. */
export function lockNoticeText(notice: LockNotice, productName: string): string {
  // The user agent is attacker-chosen: keep it to one printable line of bounded length.
  const userAgent = (notice.userAgent ?? 'unknown').replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  return [
    `Sign-in to ${productName} was temporarily locked after repeated failed password attempts.`,
    '',
    `When: ${notice.at.toISOString()}`,
    `From address: ${notice.ip}`,
    `Browser / device: ${userAgent}`,
    '',
    `The lock lifts by itself at ${notice.lockedUntil.toISOString()}; you do not need to do anything.`,
    'If these attempts were not yours, consider changing your password once you can sign in again.',
  ].join('\n');
}

/**
 * A failed lock email as the log may show it. A relay's refusal quotes the recipient
 * (`550 5.1.1 <ada@example.com>: Recipient address rejected`), and nodemailer puts that reply into
 * its error message: the recipient, and anything else shaped like an address, is left out, as every
 * other email in the log is only a pseudonym.
 */
export function notificationFailure(error: unknown, recipient: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const escaped = recipient.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return message.replace(new RegExp(escaped, 'gi'), '<recipient>').replace(/[^\s<>()[\],;:]+@[^\s<>()[\],;:]+/g, '<address>');
}
