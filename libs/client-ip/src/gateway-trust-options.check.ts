import type { GatewayTrustOptions } from './gateway-trust';

/** Shortest accepted secret: an HMAC key anyone could guess lets anyone vouch for any address. */
const MIN_SECRET_LENGTH = 32;

/** The replay window's bounds: clocks must agree within it, and a signature replays for as long. */
const GATEWAY_SIGNATURE_MAX_AGE_BOUNDS_MS = { min: 1000, max: 300_000 } as const;

/**
 * Refuses, when the check is installed and naming the option, what would otherwise let a client
 * choose the address it is rate limited and locked out by: an empty or short secret (anyone signs
 * with it), an unset one (every request carrying a signature answered 500), and a `maxAgeMs` that
 * bounds no replay (`NaN` or `Infinity` accept a signature of any age). Never shows a secret.
 */
export function checkGatewayTrustOptions({ secret, previousSecret, maxAgeMs }: GatewayTrustOptions): void {
  const problems: string[] = [];
  const tooShort = (value: unknown) => typeof value !== 'string' || value.length < MIN_SECRET_LENGTH;
  if (tooShort(secret)) problems.push(`secret must be at least ${MIN_SECRET_LENGTH} characters`);
  if (previousSecret !== undefined && tooShort(previousSecret)) {
    problems.push(`previousSecret must be at least ${MIN_SECRET_LENGTH} characters`);
  } else if (previousSecret !== undefined && previousSecret === secret) {
    problems.push('previousSecret must differ from secret (set it only during a rotation, to the other value)');
  }
  const { min, max } = GATEWAY_SIGNATURE_MAX_AGE_BOUNDS_MS;
  if (!(Number.isSafeInteger(maxAgeMs) && maxAgeMs >= min && maxAgeMs <= max)) {
    problems.push(`maxAgeMs must be a whole number from ${min} to ${max} (got ${String(maxAgeMs)})`);
  }
  if (problems.length > 0) throw new Error(`trustGatewaySignatures: ${problems.join('; ')}`);
}
