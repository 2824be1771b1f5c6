import { createServer, type IncomingMessage } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

import { freePort } from './free-port';

export interface SentryEnvelope {
  /** The decoded envelope text (newline-separated JSON: header, then item headers and payloads). */
  raw: string;
  /** The parsed JSON lines; lines that are not JSON (binary attachments) are skipped. */
  items: unknown[];
}

export interface SentryReceiver {
  /** DSN pointing at this receiver: `http://publickey@127.0.0.1:<port>/1`. */
  dsn: string;
  envelopes: SentryEnvelope[];
  /** Resolves with the first envelope whose text matches (rejects after `timeoutMs`). */
  waitFor(match: (envelope: SentryEnvelope) => boolean, timeoutMs?: number): Promise<SentryEnvelope>;
  close(): Promise<void>;
}

function decode(req: IncomingMessage, body: Buffer): string {
  switch (req.headers['content-encoding']) {
    case 'gzip':
      return gunzipSync(body).toString('utf8');
    case 'deflate':
      return inflateSync(body).toString('utf8');
    case 'br':
      return brotliDecompressSync(body).toString('utf8');
    default:
      return body.toString('utf8');
  }
}

function parseLines(raw: string): unknown[] {
  const items: unknown[] = [];
  for (const line of raw.split('\n')) {
    if (!line.trim()) continue;
    try {
      items.push(JSON.parse(line));
    } catch {
      // attachment payloads are not JSON
    }
  }
  return items;
}

/** A local HTTP server acting as the Sentry DSN host; collects envelopes sent to `/api/1/envelope/`. */
export async function startSentryReceiver(): Promise<SentryReceiver> {
  const envelopes: SentryEnvelope[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method === 'POST' && req.url?.startsWith('/api/1/envelope')) {
        const raw = decode(req, Buffer.concat(chunks));
        envelopes.push({ raw, items: parseLines(raw) });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    dsn: `http://publickey@127.0.0.1:${port}/1`,
    envelopes,
    async waitFor(match, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = envelopes.find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching Sentry envelope among ${envelopes.length}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
