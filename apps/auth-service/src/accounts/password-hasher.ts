import { randomBytes } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';

/** OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1. */
const ARGON2ID = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * argon2id hashing. `verifyOrDummy` performs the same work whether or not an account exists, so
 * response time does not reveal which emails are registered.
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
    return hash(password, ARGON2ID);
  }

  /** Verifies against `storedHash`, or against a dummy hash (always false) when there is no account. */
  async verifyOrDummy(storedHash: string | undefined, password: string): Promise<boolean> {
    this.verifications++;
    try {
      const ok = await verify(storedHash ?? this.dummyHash, password);
      return ok && storedHash !== undefined;
    } catch {
      return false;
    }
  }
}
