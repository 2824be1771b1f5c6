/** A positive "session is active" answer for one access token, bound to what it was computed for. */
export interface CachedAnswer {
  userId: string;
  sessionId: string;
  /** Reusable until then, on the monotonic clock (`performance.now()`). */
  until: number;
}

/**
 * The per-process cache of positive revocation-check answers, by token id, with an index by
 * session: a revocation message (`s:<sid>`) drops that session's entries in O(entries of that
 * session), however large the cache, so a burst of revocations never stalls the event loop.
 * Bounded: beyond `maxEntries` the oldest entry is evicted.
 */
export class ActiveSessionCache {
  private readonly byToken = new Map<string, CachedAnswer>();
  private readonly bySession = new Map<string, Set<string>>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.byToken.size;
  }

  get(jti: string): CachedAnswer | undefined {
    return this.byToken.get(jti);
  }

  set(jti: string, answer: CachedAnswer): void {
    this.dropToken(jti);
    if (this.byToken.size >= this.maxEntries) this.dropToken(this.byToken.keys().next().value as string);
    this.byToken.set(jti, answer);
    let tokens = this.bySession.get(answer.sessionId);
    if (!tokens) this.bySession.set(answer.sessionId, (tokens = new Set()));
    tokens.add(jti);
  }

  dropToken(jti: string): void {
    const answer = this.byToken.get(jti);
    if (!answer) return;
    this.byToken.delete(jti);
    const tokens = this.bySession.get(answer.sessionId);
    tokens?.delete(jti);
    if (tokens?.size === 0) this.bySession.delete(answer.sessionId);
  }

  dropSession(sessionId: string): void {
    const tokens = this.bySession.get(sessionId);
    if (!tokens) return;
    for (const jti of tokens) this.byToken.delete(jti);
    this.bySession.delete(sessionId);
  }

  clear(): void {
    this.byToken.clear();
    this.bySession.clear();
  }
}
