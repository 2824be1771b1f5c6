/**
 * The cost of revocation messages to a process: 1,000 `s:<sid>` messages against a cache of 10,000
 * positive answers (the default bound), dropped through ActiveSessionCache's session index, next to
 * the linear scan it replaced (measured in the same run, as the baseline). Prints total event-loop
 * time per 1,000 messages; target ≤ 5 ms.
 *
 *   npm run bench:revocation            BENCH_ROUNDS (default 7)
 */
import { performance } from 'node:perf_hooks';

import { ActiveSessionCache, type CachedAnswer } from '@nest-hardening/sessions';

const ENTRIES = 10_000;
const MESSAGES = 1_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

/** Answers as the gateway caches them: a few tokens per session (tabs, refreshes). */
function fill(set: (jti: string, answer: CachedAnswer) => void): string[] {
  const sessions: string[] = [];
  for (let i = 0; i < ENTRIES; i++) {
    const sessionId = `s${Math.floor(i / 3)}`;
    if (i % 3 === 0) sessions.push(sessionId);
    set(`j${i}`, { userId: `u${i}`, sessionId, until: Date.now() + 500 });
  }
  return sessions;
}

function indexed(): number {
  const cache = new ActiveSessionCache(ENTRIES);
  const sessions = fill((jti, answer) => cache.set(jti, answer));
  const start = performance.now();
  for (let i = 0; i < MESSAGES; i++) cache.dropSession(sessions[(i * 7) % sessions.length]);
  return performance.now() - start;
}

function linearScan(): number {
  const cache = new Map<string, CachedAnswer>();
  const sessions = fill((jti, answer) => cache.set(jti, answer));
  const start = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    const id = sessions[(i * 7) % sessions.length];
    for (const [jti, entry] of cache) if (entry.sessionId === id) cache.delete(jti);
  }
  return performance.now() - start;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fast: number[] = [];
const slow: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  fast.push(indexed());
  slow.push(linearScan());
}
const ms = (v: number) => v.toFixed(2);
process.stdout.write(
  [
    `revocation messages: ${MESSAGES} against ${ENTRIES} cached answers, ${ROUNDS} rounds (median)`,
    `| cache | event-loop ms per ${MESSAGES} messages | per message µs |`,
    '|---|---|---|',
    `| session index (ActiveSessionCache) | ${ms(median(fast))} | ${ms((median(fast) * 1000) / MESSAGES)} |`,
    `| linear scan (before) | ${ms(median(slow))} | ${ms((median(slow) * 1000) / MESSAGES)} |`,
    `target ≤ 5 ms: ${median(fast) <= 5 ? 'met' : 'MISSED'}; ${ms(median(slow) / median(fast))}x faster than the scan`,
    '',
  ].join('\n'),
);
