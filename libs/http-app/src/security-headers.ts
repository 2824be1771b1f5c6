import type { IncomingMessage, ServerResponse } from 'node:http';

import helmet from 'helmet';

export interface SecurityHeadersOptions {
  /** `Strict-Transport-Security: max-age=<n>; includeSubDomains` when above 0; 0 sends none. */
  hstsMaxAgeSeconds: number;
  /** Path of an HTML page served by the app (Swagger UI), e.g. `/docs`: it may load its own scripts and styles. */
  htmlPath?: string;
}

type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

/** JSON answers need no content at all: nothing may be loaded, framed, or submitted from them. */
const API_CSP = { defaultSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"] };

/**
 * Swagger UI loads its bundle, init script and stylesheet from the app itself, has an inline
 * `<style>` block and inline style attributes, shows `data:` images, and fetches from the API.
 * Scripts stay same-origin only.
 */
const HTML_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/**
 * helmet's headers on every response (errors and 404s included, so it runs first): `nosniff`,
 * `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`, a
 * same-origin resource policy, HSTS when configured, and `Cache-Control: no-store` because answers
 * carry tokens and personal data. TLS ends at the load balancer, so HSTS is off unless the
 * operator turns it on for the public host name.
 *
 * @example app.use(securityHeaders({ hstsMaxAgeSeconds: 31_536_000, htmlPath: '/docs' }));
 */
export function securityHeaders({ hstsMaxAgeSeconds, htmlPath }: SecurityHeadersOptions): Middleware {
  const common = {
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: hstsMaxAgeSeconds > 0 ? { maxAge: hstsMaxAgeSeconds, includeSubDomains: true } : false,
  } as const;
  // JSON answers skip the headers that only a browser rendering a document or a legacy plugin reads
  // (each header costs every request a validated setHeader); the HTML page gets all of helmet's.
  const api = helmet({
    ...common,
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
  const html = htmlPath ? helmet({ ...common, contentSecurityPolicy: { useDefaults: false, directives: HTML_CSP } }) : api;
  const apiHeaders = recordHeaderWrites(api);
  const htmlHeaders = recordHeaderWrites(html);
  const isHtml = (url: string | undefined) =>
    htmlPath !== undefined && url !== undefined && (url === htmlPath || url.startsWith(`${htmlPath}/`) || url.startsWith(`${htmlPath}?`));
  return (req, res, next) => {
    const writes = isHtml(req.url) ? htmlHeaders : apiHeaders;
    for (let i = 0; i < writes.length; i++) {
      const [name, value] = writes[i];
      if (value === undefined) res.removeHeader(name);
      else res.setHeader(name, value);
    }
    next();
  };
}

/** A header set to a value, or removed (undefined). */
type HeaderWrite = readonly [name: string, value: string | undefined];

/**
 * The header writes a helmet middleware makes, recorded once at start-up. The options above are
 * constants without a directive function (no per-request CSP nonce), so helmet sets the same headers
 * on every response, and replaying the list is exactly helmet without re-running its chain of
 * middleware per request. `Cache-Control: no-store` comes first, as before.
 */
function recordHeaderWrites(middleware: Middleware): HeaderWrite[] {
  const writes: HeaderWrite[] = [['Cache-Control', 'no-store']];
  const recorder = {
    setHeader: (name: string, value: unknown) => {
      if (typeof value !== 'string') throw new Error(`securityHeaders: helmet set ${name} to a non-string value`);
      writes.push([name, value]);
    },
    removeHeader: (name: string) => writes.push([name, undefined]),
  };
  let done = false;
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error('helmet failed while recording its headers');
    done = true;
  });
  if (!done) throw new Error('securityHeaders: helmet did not finish synchronously');
  return writes;
}
