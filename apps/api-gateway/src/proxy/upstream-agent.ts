import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

export interface UpstreamAgentOptions {
  /** Most connections open to this upstream at once; requests beyond it wait for a free one. */
  maxSockets: number;
  /** How long an idle pooled connection is kept; shorter than the upstream's keep-alive timeout. */
  idleTimeoutMs: number;
}

/**
 * The bounded keep-alive pool of one upstream. LIFO reuse keeps the busiest few connections warm
 * and lets the rest reach the idle timeout and close. Node's agent also honours a server's
 * `Keep-Alive: timeout=N` hint (it closes an idle socket a second before the server would) and drops
 * a pooled socket as soon as it closes.
 */
export function createUpstreamAgent(target: URL, options: UpstreamAgentOptions): HttpAgent {
  const settings = {
    keepAlive: true,
    maxSockets: options.maxSockets,
    maxFreeSockets: options.maxSockets,
    timeout: options.idleTimeoutMs,
    scheduling: 'lifo' as const,
  };
  return target.protocol === 'https:' ? new HttpsAgent(settings) : new HttpAgent(settings);
}
