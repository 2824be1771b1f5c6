import { Injectable } from '@nestjs/common';

/**
 * The state of this process's revocation feed as `SessionRevocationChecker` sees it, for the apps'
 * metrics endpoint (read at scrape time). Plain numbers, kept by the checker as the feed changes.
 */
@Injectable()
export class RevocationFeedMetrics {
  /** Whether the checker watches the feed at all: only when it caches answers (`cacheTtlMs` > 0). */
  watched = false;
  /** 1 while the checker trusts the feed and may cache answers, 0 while the feed is lost (or not yet up). */
  up = 0;
  /** Outages begun: each is the one warning the checker logs when the feed is lost. */
  losses = 0;
}
