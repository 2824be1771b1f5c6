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
  const isHtml = (url: string | undefined) => htmlPath !== undefined && url !== undefined && (url === htmlPath || url.startsWith(`${htmlPath}/`) || url.startsWith(`${htmlPath}?`));
  return (req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    (isHtml(req.url) ? html : api)(req, res, next);
  };
}
