export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The session id (`sid` claim) of an access token, read without verification (tests only). */
export const sessionIdOf = (accessToken: string): string =>
  (JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString()) as { sid: string }).sid;

/**
 * Polls until `check` holds or `timeoutMs` passes; returns whether it held. For properties with a
 * deadline (revocation within 1 s), not for sleeping until something probably happened.
 */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 1000, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}
