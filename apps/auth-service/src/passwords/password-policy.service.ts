import { Inject, Injectable, Logger } from '@nestjs/common';

import { SecurityEvents } from '@nest-hardening/security-events';

import { AUTH_SERVICE_CONFIG, type AuthServiceConfig } from '../config/auth-service.config';
import { BreachedPasswordClient } from './breached-password.client';
import { PasswordBlocklist } from './password-blocklist';
import { comparisonForm } from './password-comparison-form';
import { findContextWord } from './password-context';
import { PASSWORD_MIN_LENGTH } from './password-length';
import { isRepetitiveOrSequential } from './password-patterns';
import { WeakPasswordError } from './weak-password.error';

export interface PasswordContext {
  /** The account's email: neither it nor its local part may appear in the password. */
  email: string;
  /** On a change, the password being replaced: the new one must differ. */
  currentPassword?: string;
}

/** Loaded once per process: the list is immutable and every app instance in it shares it. */
let commonPasswords: PasswordBlocklist | undefined;

/**
 * NIST SP 800-63B 3.1.1.2 / ASVS 5 6.2.11: a new password must not be a commonly used or breached
 * password, contain context words, or be a repetitive or sequential pattern. The length rule stays
 * in the DTO (`@IsAcceptablePassword()`); this runs after it, before anything is hashed.
 */
@Injectable()
export class PasswordPolicy {
  private readonly logger = new Logger(PasswordPolicy.name);
  private readonly blocklist: PasswordBlocklist;
  private readonly breaches?: BreachedPasswordClient;

  constructor(
    @Inject(AUTH_SERVICE_CONFIG) private readonly config: AuthServiceConfig,
    private readonly events: SecurityEvents,
  ) {
    if (!commonPasswords) {
      const started = performance.now();
      commonPasswords = PasswordBlocklist.load(PASSWORD_MIN_LENGTH);
      const ms = Math.round(performance.now() - started);
      this.logger.log(`password blocklist: ${commonPasswords.size} of ${commonPasswords.sourceSize} entries can match, loaded in ${ms} ms`);
    }
    this.blocklist = commonPasswords;
    if (config.PASSWORD_BREACH_API_URL)
      this.breaches = new BreachedPasswordClient(config.PASSWORD_BREACH_API_URL, config.PASSWORD_BREACH_API_TIMEOUT_MS);
  }

  /** Throws {@link WeakPasswordError} with the first reason that applies; cheap local rules run before the breach API. */
  async assertAcceptable(password: string, context: PasswordContext): Promise<void> {
    const nfc = password.normalize('NFC');
    if (context.currentPassword !== undefined && nfc === context.currentPassword.normalize('NFC')) throw new WeakPasswordError('unchanged');
    const contextWord = findContextWord(nfc, context.email, this.config.PASSWORD_CONTEXT_WORDS);
    if (contextWord) throw new WeakPasswordError(contextWord);
    if (isRepetitiveOrSequential(comparisonForm(nfc), PASSWORD_MIN_LENGTH)) throw new WeakPasswordError('pattern');
    if (this.blocklist.has(nfc)) throw new WeakPasswordError('common');
    if (this.breaches) await this.checkBreaches(this.breaches, nfc);
  }

  /** Fails open: an unreachable API must not stop people from registering, but someone must hear about it. */
  private async checkBreaches(breaches: BreachedPasswordClient, password: string): Promise<void> {
    const result = await breaches.check(password);
    if (result.status === 'breached') throw new WeakPasswordError('breached');
    if (result.status === 'unavailable') {
      this.events.emit({ type: 'password_breach_check_unavailable', severity: 'warning', details: { reason: result.reason } });
    }
  }
}
