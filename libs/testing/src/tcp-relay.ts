import { connect, createServer, type Socket } from 'node:net';

/** A loopback TCP relay in front of a real server, which a test turns into a failing network. */
export interface TcpRelay {
  port: number;
  /**
   * The connections open now carry nothing more (in either direction) but stay open, as a
   * partition or a frozen host does; connections opened after `heal()` work.
   */
  silence(): void;
  heal(): void;
  /**
   * From now on, the first client bytes matching `match` on a connection, and all after them, are
   * held back from the server until `release()`, e.g. one command of a protocol.
   */
  holdClientBytes(match: (chunk: Buffer) => boolean): void;
  /** Stops holding and forwards everything held, in order. */
  release(): void;
  /** Cuts every open connection, as a reset does; the client may connect again. */
  cut(): void;
  close(): Promise<void>;
}

/** Starts a relay on a free loopback port to `127.0.0.1:targetPort`. */
export async function startTcpRelay(targetPort: number): Promise<TcpRelay> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  const silenced = new WeakSet<Socket>();
  const held = new Map<Socket, Buffer[]>();
  let silent = false;
  let holdMatch: ((chunk: Buffer) => boolean) | undefined;

  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    if (silent) silenced.add(client);
    client.on('data', (chunk: Buffer) => {
      if (silenced.has(client)) return;
      const queue = held.get(client) ?? (holdMatch?.(chunk) ? [] : undefined);
      if (queue) held.set(client, [...queue, chunk]);
      else upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!silenced.has(client)) client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      held.delete(client);
      pairs.delete(pair);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    port: (server.address() as { port: number }).port,
    silence() {
      silent = true;
      for (const { client } of pairs) silenced.add(client);
    },
    heal() {
      silent = false;
    },
    holdClientBytes(match) {
      holdMatch = match;
    },
    release() {
      holdMatch = undefined;
      for (const { client, upstream } of pairs) {
        for (const chunk of held.get(client) ?? []) upstream.write(chunk);
        held.delete(client);
      }
    },
    cut() {
      for (const { client, upstream } of pairs) {
        client.resetAndDestroy();
        upstream.destroy();
      }
    },
    async close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
