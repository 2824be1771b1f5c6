import { connect, type Socket } from 'node:net';

import type { RawResponse } from './fuzz-arbitraries';

/**
 * Splits what a server wrote into responses (field names in lower case, repeated fields joined with
 * `, `); `headIndexes` are those answering HEAD (no body).
 */
function parseResponses(raw: string, headIndexes: ReadonlySet<number>, closed: boolean): RawResponse[] {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = raw.indexOf('\r\n\r\n', at);
    if (end < 0) return responses;
    const [statusLine, ...lines] = raw.slice(at, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? NaN);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
    }
    let next = end + 4;
    let body = '';
    const bodiless = (status >= 100 && status < 200) || status === 204 || status === 304 || headIndexes.has(responses.length);
    if (bodiless) {
      // No body.
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      for (;;) {
        const lineEnd = raw.indexOf('\r\n', next);
        if (lineEnd < 0) return responses;
        const size = parseInt(raw.slice(next, lineEnd), 16);
        if (size === 0) {
          const trailerEnd = raw.indexOf('\r\n\r\n', lineEnd);
          if (trailerEnd < 0) return responses;
          next = trailerEnd + 4;
          break;
        }
        if (raw.length < lineEnd + 2 + size + 2) return responses;
        body += raw.slice(lineEnd + 2, lineEnd + 2 + size);
        next = lineEnd + 2 + size + 2;
      }
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (raw.length < next + length) return responses;
      body = raw.slice(next, next + length);
      next += length;
    } else {
      // Delimited by the end of the connection (an HTTP/1.0 answer): whole only once closed.
      if (!closed) return responses;
      body = raw.slice(next);
      next = raw.length;
    }
    responses.push({ status, headers, body });
    at = next;
  }
}

/**
 * A client connection that writes exactly the bytes it is given (no validation, no framing of its
 * own) and reads every response the server writes back, pipelined or not.
 *
 * @example
 * const client = new RawConnection(port);
 * await client.send('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
 * const { responses, closed } = await client.read(1);
 */
export class RawConnection {
  private readonly socket: Socket;
  private received = '';
  private isClosed = false;
  private readonly waiters = new Set<() => void>();

  constructor(
    port: number,
    /** Positions (0 for the first response) of the responses that answer a HEAD request: they have no body. */
    private readonly headIndexes: ReadonlySet<number> = new Set(),
  ) {
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.setEncoding('latin1');
    this.socket.on('data', (chunk: string) => {
      this.received += chunk;
      this.notify();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.isClosed = true;
      this.notify();
    });
  }

  /** Writes `bytes` as they are; resolves once the kernel has them (nothing is written after a close). */
  send(bytes: string | Buffer): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** The responses read so far, once there are `count` of them or the server has closed the connection. */
  read(count: number): Promise<{ responses: RawResponse[]; closed: boolean }> {
    return new Promise((resolve) => {
      const check = () => {
        const responses = parseResponses(this.received, this.headIndexes, this.isClosed);
        if (responses.length < count && !this.isClosed) return;
        this.waiters.delete(check);
        resolve({ responses, closed: this.isClosed });
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves once the server has closed the connection (the test times out otherwise). */
  async closed(): Promise<{ responses: RawResponse[]; closed: boolean }> {
    return this.read(Number.POSITIVE_INFINITY);
  }

  destroy(): void {
    this.socket.destroy();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
