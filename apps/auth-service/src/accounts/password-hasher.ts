import { randomBytes } from 'node:crypto';

import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';

/** OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1. */
const ARGON2ID = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * argon2id hashing of the password in Unicode NFC (NIST SP 800-63B 3.1.1.2), so that `é` typed as
 * one code point or as `e` plus a combining accent is the same password. `verifyOrDummy` performs
 * the same work whether or not an account exists, so response time does not reveal which emails
 * are registered.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private dummyHash = '';
  /** Password verifications performed by this process (observable by tests and metrics). */
  verifications = 0;

  async onModuleInit(): Promise<void> {
    this.dummyHash = await hash(randomBytes(24).toString('base64'), ARGON2ID);
  }

  hash(password: string): Promise<string> {
    return hash(password.normalize('NFC'), ARGON2ID);
  }

  /**
   * Verifies against `storedHash`, or against a dummy hash (always false) when there is no account.
   * The NFC form is tried first; when it fails and the password as sent differs from it, the raw
   * form too, because hashes stored before normalisation were made from the raw form. A failure
   * takes the same attempts whether or not the account exists (they depend only on the submitted
   * password), so an unknown email still costs exactly what a wrong password costs.
   */
  async verifyOrDummy(storedHash: string | undefined, password: string): Promise<boolean> {
    this.verifications++;
    const target = storedHash ?? this.dummyHash;
    const nfc = password.normalize('NFC');
    const ok = (await this.verifyOne(target, nfc)) || (nfc !== password && (await this.verifyOne(target, password)));
    return ok && storedHash !== undefined;
  }

  private async verifyOne(storedHash: string, password: string): Promise<boolean> {
    try {
      return await verify(storedHash, password);
    } catch {
      return false;
    }
  }
}
