import { createServer, type Socket } from 'node:net';

/**
 * A loopback TCP listener that accepts connections and never answers, as a hung server or a host
 * behind a black hole does, and keeps what clients sent: a witness of what left in plaintext.
 */
export interface SilentListener {
  port: number;
  /** Everything clients have sent so far, all connections together. */
  received(): Buffer;
  /** Connections the clients have not closed yet. */
  openConnections(): number;
  close(): Promise<void>;
}

export async function startSilentListener(): Promise<SilentListener> {
  const sockets = new Set<Socket>();
  const chunks: Buffer[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    // Reading (rather than leaving the socket paused) is also what sees a client's close.
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    received: () => Buffer.concat(chunks),
    openConnections: () => sockets.size,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
