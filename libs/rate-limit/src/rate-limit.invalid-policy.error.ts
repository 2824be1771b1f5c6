/** The rate-limit configuration is unusable; raised at start-up so a typo never silently disables a limit. */
export class InvalidRateLimitPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidRateLimitPolicyError';
  }
}
