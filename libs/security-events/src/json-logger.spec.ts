import { JsonLogger } from './json-logger';

/** The lines a logger wrote to stdout and stderr while `act` ran, parsed. */
function linesOf(act: (logger: JsonLogger) => void): Record<string, unknown>[] {
  const written: string[] = [];
  const spies = (['stdout', 'stderr'] as const).map((stream) =>
    jest.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }),
  );
  try {
    act(new JsonLogger('svc', ['log', 'warn', 'error']));
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return written.flatMap((chunk) => chunk.split('\n').filter(Boolean)).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('JsonLogger', () => {
  it('merges an object message into one line, with the time, level and service', () => {
    const [line] = linesOf((logger) => logger.warn({ securityEvent: 'login_failed', ip: '192.0.2.1' }, 'Auth'));
    expect(line).toMatchObject({ level: 'warn', service: 'svc', context: 'Auth', securityEvent: 'login_failed', ip: '192.0.2.1' });
    expect(typeof line.time).toBe('string');
  });

  // Alerting and log routing key on these fields: a message object must not be able to rewrite them.
  it('keeps its own time, level, service and context when the message object has fields of those names', () => {
    const [line] = linesOf((logger) =>
      logger.warn({ time: 'forged', level: 'log', service: 'other', context: 'Other', detail: 1 }, 'Auth'),
    );
    expect(line).toMatchObject({ level: 'warn', service: 'svc', context: 'Auth', detail: 1 });
    expect(line.time).not.toBe('forged');
  });

  // A logger that throws turns a log call in an error path into a second failure (or a 500).
  it('writes a line for a message JSON cannot encode (a cycle, a BigInt) instead of throwing', () => {
    const cyclic: Record<string, unknown> = { securityEvent: 'x' };
    cyclic.self = cyclic;
    let lines: Record<string, unknown>[] = [];
    expect(() => (lines = linesOf((logger) => (logger.error(cyclic), logger.warn({ amount: 10n }))))).not.toThrow();
    expect(lines).toEqual([
      expect.objectContaining({ level: 'error', service: 'svc', msg: expect.stringMatching(/could not be encoded/) }),
      expect.objectContaining({ level: 'warn', service: 'svc', msg: expect.stringMatching(/could not be encoded/) }),
    ]);
  });

  // A getter or toJSON may throw anything, not only an Error (a lazy ORM field, a Proxy).
  it('writes a line instead of throwing when encoding the message throws something other than an Error', () => {
    const throwing = (thrown: unknown) => ({
      securityEvent: 'x',
      get detail(): unknown {
        throw thrown;
      },
    });
    let lines: Record<string, unknown>[] = [];
    expect(() => (lines = linesOf((logger) => (logger.warn(throwing(null)), logger.warn(throwing('no detail')))))).not.toThrow();
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', service: 'svc', msg: 'a log message could not be encoded: null' }),
      expect.objectContaining({ level: 'warn', service: 'svc', msg: 'a log message could not be encoded: no detail' }),
    ]);
  });

  // String() itself throws for an object without a prototype, or whose toString throws.
  it('writes a line when what an encoding threw cannot be turned into a string either', () => {
    const throwing = (thrown: unknown) => ({
      securityEvent: 'x',
      get detail(): unknown {
        throw thrown;
      },
    });
    const unprintable = [
      Object.create(null) as object,
      {
        toString() {
          throw new Error('no string');
        },
      },
    ];
    let lines: Record<string, unknown>[] = [];
    expect(() => (lines = linesOf((logger) => unprintable.forEach((thrown) => logger.warn(throwing(thrown)))))).not.toThrow();
    expect(lines).toEqual(
      unprintable.map(() => expect.objectContaining({ level: 'warn', service: 'svc', msg: expect.stringMatching(/could not be encoded/) })),
    );
  });
});

describe('JsonLogger and errors', () => {
  // An operator reading an error needs where it came from; a pipeline that reads a line at a time
  // must not separate a message from its stack.
  it('writes the stack in the same line as its message (Nest passes it as a second argument)', () => {
    const error = new TypeError('boom');
    const lines = linesOf((logger) => logger.error(`${error.name}: ${error.message}`, error.stack));
    expect(lines).toEqual([expect.objectContaining({ level: 'error', msg: 'TypeError: boom', stack: error.stack })]);
  });

  it('keeps the name and stack of an Error passed as the message', () => {
    const error = new RangeError('out of range');
    const [line, ...rest] = linesOf((logger) => logger.error(error));
    expect(rest).toEqual([]);
    expect(line).toMatchObject({ level: 'error', msg: 'out of range', error: 'RangeError', stack: error.stack });
  });

  it('writes an Error inside a message object with its message and stack instead of {}', () => {
    const cause = new Error('socket closed');
    const error = new Error('publish failed', { cause });
    const [line] = linesOf((logger) => logger.warn({ securityEvent: 'x', error }));
    expect(line.error).toEqual({
      name: 'Error',
      message: 'publish failed',
      stack: error.stack,
      cause: { name: 'Error', message: 'socket closed', stack: cause.stack },
    });
  });

  it('keeps a message field named stack when no stack was given', () => {
    const [line] = linesOf((logger) => logger.warn({ stack: 'redis-cluster' }));
    expect(line.stack).toBe('redis-cluster');
  });

  // JSON.stringify calls a toJSON of the object it encodes: a message's own would replace the line.
  it('ignores a toJSON of the message object, which would replace the whole line', () => {
    const [line] = linesOf((logger) => logger.warn({ securityEvent: 'x', toJSON: () => ({ level: 'forged' }) }));
    expect(line).toMatchObject({ level: 'warn', service: 'svc', securityEvent: 'x' });
  });
});

describe('JsonLogger and what an Error carries', () => {
  /** As an HTTP client's error: the request it made, headers included, in its properties and its toJSON. */
  class RequestFailedError extends Error {
    readonly config = { headers: { authorization: 'Bearer raw-access-token' }, data: 'refresh_token=raw-refresh-token' };
    toJSON() {
      return { message: this.message, config: this.config };
    }
  }

  // A cause was never written before; an Error wrapping a client's error must not now write the
  // request that client sent.
  it("writes the causes of an Error without their request data (an HTTP client's toJSON, a cause that is not an Error)", () => {
    const wrapped = new Error('token refresh failed', { cause: new RequestFailedError('Request failed with status code 401') });
    const plain = new Error('publish failed', { cause: { headers: { authorization: 'Bearer raw-access-token' } } });
    const lines = linesOf(
      (logger) => (logger.warn({ securityEvent: 'x', error: wrapped }), logger.warn({ securityEvent: 'y', error: plain })),
    );

    expect(JSON.stringify(lines)).not.toMatch(/raw-access-token|raw-refresh-token/);
    expect(lines[0]).toMatchObject({
      securityEvent: 'x',
      error: { message: 'token refresh failed', cause: { name: 'Error', message: 'Request failed with status code 401' } },
    });
    expect(lines[1]).toMatchObject({ securityEvent: 'y', error: { message: 'publish failed' } });
  });

  it('writes an Error with its own toJSON as its name, message and stack, not what its toJSON returns', () => {
    const error = new RequestFailedError('Request failed with status code 500');
    const [line] = linesOf((logger) => logger.warn({ securityEvent: 'x', error }));
    expect(line.error).toEqual({ name: 'Error', message: 'Request failed with status code 500', stack: error.stack });
  });

  // The line is a security event: a cycle among causes must not cost it its fields.
  it('writes an Error whose causes form a cycle, each once', () => {
    const first = new Error('first');
    const second = new Error('second', { cause: first });
    first.cause = second;
    const [line] = linesOf((logger) => logger.warn({ securityEvent: 'x', error: first }));
    expect(line).toMatchObject({
      securityEvent: 'x',
      error: { message: 'first', cause: { message: 'second', cause: '[Circular]' } },
    });
  });

  // A logger that throws turns a log call in an error path into a second failure.
  it("writes a line instead of throwing when an Error's stack cannot be read", () => {
    const error = new Error('boom');
    Object.defineProperty(error, 'stack', {
      get(): string {
        throw new Error('stack unavailable');
      },
    });
    let lines: Record<string, unknown>[] = [];
    expect(() => (lines = linesOf((logger) => (logger.error(error), logger.warn({ securityEvent: 'x', error }))))).not.toThrow();
    expect(lines).toEqual([
      expect.objectContaining({ level: 'error', service: 'svc', msg: expect.stringMatching(/could not be encoded/) }),
      expect.objectContaining({ level: 'warn', service: 'svc', msg: expect.stringMatching(/could not be encoded/) }),
    ]);
  });
});
