import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a sampled function belongs, by its file: the layer of the stack that spent the time. */
const BUCKETS: [string, RegExp][] = [
  // The built app bundles apps/ and libs/ into one file (main.js); node_modules stay outside it.
  ["this project's code (guards, session check, rate limiter, proxy)", /dist\/apps\/|\/libs\/|\/apps\//],
  ['ioredis', /node_modules\/ioredis|node_modules\/redis-parser/],
  ['jsonwebtoken / passport', /node_modules\/(jsonwebtoken|jws|jwa|passport)/],
  ['Nest (router, guards, interceptors)', /node_modules\/@nestjs\//],
  ['Express + its dependencies', /node_modules\/(express|router|send|finalhandler|body-parser|qs|path-to-regexp|on-finished|parseurl|proxy-addr|accepts|content-type|type-is|mime|depd|debug|cookie|vary)/],
  ['rxjs', /node_modules\/rxjs/],
  ['other node_modules', /node_modules\//],
  ['Node HTTP (node:_http_*)', /node:_http_|node:http/],
  ['Node net / streams / timers / events', /node:(net|stream|internal\/streams|internal\/timers|timers|events|internal\/stream_base|buffer|internal\/buffer)/],
  ['other Node internals', /^node:/],
];

/** Native frames: socket writes (the system calls themselves), GC and V8's own names. */
function nativeLayer(name: string): string {
  if (/^(writev|writeUtf8String|writeLatin1String|writeBuffer|writeAsciiString)$/.test(name)) return 'socket writes (system calls)';
  if (name === '(garbage collector)' || name === '(program)') return name;
  if (name.startsWith('RegExp:')) return 'regular expressions';
  return 'other native code';
}

/**
 * Self time of a V8 CPU profile by layer, as shares of the busy (non-idle) time: which part of the
 * gateway's stack its CPU goes to. Native frames without a file ("(garbage collector)",
 * "(program)") keep their own names.
 */
export function summariseCpuProfile(file: string): { layer: string; share: number }[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const time = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') return;
    const layer = frame.url ? (BUCKETS.find(([, pattern]) => pattern.test(frame.url))?.[0] ?? 'other JavaScript') : nativeLayer(frame.functionName);
    time.set(layer, (time.get(layer) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const busy = [...time.values()].reduce((a, b) => a + b, 0) || 1;
  return [...time.entries()].map(([layer, us]) => ({ layer, share: us / busy })).sort((a, b) => b.share - a.share);
}
