import { parse } from 'node:url';

/**
 * The path the service serves, as Express routed it: the gateway's `/api` prefix removed in any
 * case (routes match case-insensitively), and an absolute-form target (RFC 9112 §3.2.2, which a
 * server must accept) reduced to its path and query, since the service is the target, not the
 * host the client named.
 */
export function upstreamPath(url: string): string {
  const path = (url.startsWith('/') ? url : originForm(url)).replace(/^\/api(?=[/?]|$)/i, '');
  return path.startsWith('/') ? path : `/${path}`;
}

function originForm(target: string): string {
  // Express routed on this parser's reading of the target (parseurl falls back to url.parse for any
  // target that is not a path); WHATWG URL would resolve `..`, `%2e%2e` and backslashes differently.
  try {
    const { pathname, search } = parse(target);
    return (pathname ?? '') + (search ?? '');
  } catch {
    // Not a URL either (Express routes such a target nowhere): the prefix check above finds nothing.
    return target;
  }
}
