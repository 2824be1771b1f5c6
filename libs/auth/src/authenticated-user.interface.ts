export type Role = 'user' | 'admin';

/** The verified principal of a request, set on `req.user` by {@link AccessTokenGuard}. */
export interface AuthenticatedUser {
  id: string;
  sessionId: string;
  role: Role;
  /** The access token's id, for the per-token denylist. */
  jti: string;
  /** Expiry of the access token, seconds since the epoch. */
  exp: number;
}

/** Claims of an access token, as signed by auth-service. */
export interface AccessTokenClaims {
  sub: string;
  sid: string;
  role: Role;
  jti: string;
  iat: number;
  exp: number;
  iss: string;
  aud: string | string[];
}
