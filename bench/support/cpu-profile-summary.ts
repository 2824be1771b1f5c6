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
  [
    'Express + its dependencies',
    /node_modules\/(express|router|send|finalhandler|body-parser|qs|path-to-regexp|on-finished|parseurl|proxy-addr|accepts|content-type|type-is|mime|depd|debug|cookie|vary)/,
  ],
  ['rxjs', /node_modules\/rxjs/],
  ['undici (the upstream pool)', /node_modules\/undici/],
  ['other node_modules', /node_modules\//],
  ['Node HTTP (node:_http_*)', /node:_http_|node:http/],
  [
    'Node net / streams / timers / events',
    /node:(net|stream|internal\/streams|internal\/timers|timers|events|internal\/stream_base|buffer|internal\/buffer)/,
  ],
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
  return summarise(file, (url) => BUCKETS.find(([, pattern]) => pattern.test(url))?.[0] ?? 'other JavaScript');
}

/**
 * Self time of a V8 CPU profile by npm package (`node_modules/<package>`), Node module
 * (`node:<module>`) or this project's code, as shares of the busy time: which dependency a request
 * path spends its CPU in.
 */
export function summariseCpuProfileByPackage(file: string): { layer: string; share: number }[] {
  return summarise(file, (url) => {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
    if (pkg) return pkg;
    if (/dist\/apps\/|\/libs\/|\/apps\//.test(url)) return "this project's code";
    const nodeModule = /^node:(?:internal\/)?([^/]+)/.exec(url)?.[1];
    return nodeModule ? `node:${nodeModule}` : 'other JavaScript';
  });
}

function summarise(file: string, layerOf: (url: string) => string): { layer: string; share: number }[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  // The profiler's own stop (called from the preload) is sampled as one long native frame: not the app's work.
  const profilerOwn = new Set<number>();
  const mark = (node: ProfileNode, inside: boolean) => {
    const own = inside || node.callFrame.url.includes('cpu-profile-preload');
    if (own) profilerOwn.add(node.id);
    for (const child of node.children ?? []) mark(byId.get(child) as ProfileNode, own);
  };
  mark(profile.nodes[0], false);
  const time = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)' || profilerOwn.has(id)) return;
    const layer = frame.url ? layerOf(frame.url) : nativeLayer(frame.functionName);
    time.set(layer, (time.get(layer) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const busy = [...time.values()].reduce((a, b) => a + b, 0) || 1;
  return [...time.entries()].map(([layer, us]) => ({ layer, share: us / busy })).sort((a, b) => b.share - a.share);
}
