import { createHmac, timingSafeEqual } from 'node:crypto';

/** The decoded parts of a refresh token. */
export interface RefreshTokenParts {
  userId: string;
  sessionId: string;
  generation: number;
}

const FORMAT = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{22})\.(0|[1-9][0-9]{0,8})\.([A-Za-z0-9_-]{43})$/;

/**
 * Refresh tokens are `<userId>.<sessionId>.<generation>.<mac>` where
 * `mac = HMAC-SHA256(secret, "rt1|" + userId + "|" + sessionId + "|" + generation)`.
 *
 * The MAC carries 256 bits that nobody can produce without the server secret, so Redis needs to
 * hold no token material at all: it keeps only the current generation number of each session, and
 * a copy of Redis lets nobody log in. Because the token for generation N+1 is derived, a client
 * that presents the same token twice within the grace window is handed the very same successor
 * (no fork of the chain). The MAC is checked in constant time before Redis is asked anything.
 */
export class RefreshTokenCodec {
  constructor(private readonly secret: string) {}

  encode(parts: RefreshTokenParts): string {
    return `${parts.userId}.${parts.sessionId}.${parts.generation}.${this.mac(parts)}`;
  }

  /** Returns the parts of an authentic token, or undefined for anything malformed or forged. */
  decode(token: unknown): RefreshTokenParts | undefined {
    if (typeof token !== 'string' || token.length > 200) return undefined;
    const match = FORMAT.exec(token);
    if (!match) return undefined;
    const parts = { userId: match[1], sessionId: match[2], generation: Number(match[3]) };
    const expected = Buffer.from(this.mac(parts));
    const presented = Buffer.from(match[4]);
    return expected.length === presented.length && timingSafeEqual(expected, presented) ? parts : undefined;
  }

  private mac({ userId, sessionId, generation }: RefreshTokenParts): string {
    return createHmac('sha256', this.secret).update(`rt1|${userId}|${sessionId}|${generation}`).digest('base64url');
  }
}
