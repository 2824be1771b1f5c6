import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface LoopbackReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface LoopbackCallOptions {
  /** The loopback address the request is sent from (its socket address at the server). */
  from: string;
  /** JSON-encoded and sent with `Content-Type: application/json`. */
  body?: unknown;
  /** Sent as is, for malformed bodies. */
  rawBody?: string;
  headers?: Record<string, string>;
  /** Sends `path` as the request target exactly as written (absolute-form, dot segments, backslashes), not resolved against the base URL. */
  asWritten?: boolean;
}

let nextAddress = 0;
const runOctet = process.pid % 250;

/**
 * A loopback address no other call in this test run has used: all of 127.0.0.0/8 reaches a server
 * listening on 127.0.0.1, so each test can have its own per-address budgets without any header.
 */
export function freshLoopbackIp(): string {
  nextAddress++;
  return `127.${100 + (Math.floor(nextAddress / 250) % 150)}.${runOctet}.${(nextAddress % 250) + 1}`;
}

/** One HTTP request from the loopback address `from`, on a connection of its own. */
export function callFrom(baseUrl: string, method: string, path: string, options: LoopbackCallOptions): Promise<LoopbackReply> {
  const url = new URL(options.asWritten ? '/' : path, baseUrl);
  const payload = options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = { 'user-agent': 'jest-e2e/1.0', ...options.headers };
  if (payload !== undefined) headers['content-type'] ??= 'application/json';
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: options.asWritten ? path : url.pathname + url.search,
        method,
        headers,
        localAddress: options.from,
        timeout: 15_000,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, unknown>;
          try {
            body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            body = { text };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} from ${options.from}: no answer within 15 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}
