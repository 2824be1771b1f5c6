/** The account an email or id belongs to, as far as lockout needs to know. */
export interface LockoutAccount {
  id: string;
  email: string;
}

/**
 * Port to the application's account store. Lockout itself never needs it to decide a lock (unknown
 * emails are locked exactly like real ones); it is used to find the owner to notify and by the
 * admin routes to map an account id to its email.
 */
export interface LockoutAccountDirectory {
  findById(id: string): Promise<LockoutAccount | null>;
  /** Receives the normalised email (see {@link normalizeLoginEmail}). */
  findByEmail(email: string): Promise<LockoutAccount | null>;
}

export const LockoutAccountDirectory = Symbol('LockoutAccountDirectory');
