import { createHmac, timingSafeEqual } from 'node:crypto';

/** The decoded parts of a refresh token. */
export interface RefreshTokenParts {
  userId: string;
  sessionId: string;
  generation: number;
}

const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether a user id fits in a refresh token: a lower-case UUID, as `decode` reads it back. */
export function isRefreshTokenUserId(userId: unknown): userId is string {
  return typeof userId === 'string' && USER_ID.test(userId);
}

const FORMAT =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{22})\.(0|[1-9][0-9]{0,8})\.([A-Za-z0-9_-]{43})$/;

/**
 * Refresh tokens are `<userId>.<sessionId>.<generation>.<mac>` where
 * `mac = HMAC-SHA256(secret, "rt1|" + userId + "|" + sessionId + "|" + generation)`.
 *
 * The MAC carries 256 bits that nobody can produce without the server secret, so Redis needs to
 * hold no token material at all: it keeps only the current generation number of each session, and
 * a copy of Redis lets nobody log in. Because the token for generation N+1 is derived, a client
 * that presents the same token twice within the grace window is handed the very same successor
 * (no fork of the chain). The MAC is checked in constant time before Redis is asked anything.
 *
 * During a secret rotation a token MAC'd with `previousSecret` is still authentic; its successor
 * is MAC'd with the current secret, so a session moves to the new secret at its next refresh.
 */
export class RefreshTokenCodec {
  private readonly secrets: string[];

  constructor(secret: string, previousSecret?: string) {
    this.secrets = previousSecret ? [secret, previousSecret] : [secret];
  }

  encode(parts: RefreshTokenParts): string {
    return `${parts.userId}.${parts.sessionId}.${parts.generation}.${this.mac(this.secrets[0], parts)}`;
  }

  /** Returns the parts of an authentic token, or undefined for anything malformed or forged. */
  decode(token: unknown): RefreshTokenParts | undefined {
    if (typeof token !== 'string' || token.length > 200) return undefined;
    const match = FORMAT.exec(token);
    if (!match) return undefined;
    const parts = { userId: match[1], sessionId: match[2], generation: Number(match[3]) };
    const presented = Buffer.from(match[4]);
    const authentic = this.secrets.some((secret) => {
      const expected = Buffer.from(this.mac(secret, parts));
      return expected.length === presented.length && timingSafeEqual(expected, presented);
    });
    return authentic ? parts : undefined;
  }

  private mac(secret: string, { userId, sessionId, generation }: RefreshTokenParts): string {
    return createHmac('sha256', secret).update(`rt1|${userId}|${sessionId}|${generation}`).digest('base64url');
  }
}
