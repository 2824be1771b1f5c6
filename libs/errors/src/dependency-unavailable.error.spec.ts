import { DependencyUnavailableError, failureReason } from './dependency-unavailable.error';

describe('failureReason', () => {
  // The client's 503 says only "Service temporarily unavailable"; an operator reading the log needs
  // what Postgres or Redis said (a deadlock is not a dead server).
  it('names what the dependency said for an outage', () => {
    const outage = new DependencyUnavailableError('postgres', new Error('deadlock detected'));
    expect(failureReason(outage)).toBe('deadlock detected');
  });

  it("keeps any other error's own message", () => {
    expect(failureReason(new Error('relation "x" does not exist'))).toBe('relation "x" does not exist');
    expect(failureReason('plain')).toBe('plain');
  });

  // A refused connection to a name with an IPv6 and an IPv4 address (localhost) fails as an
  // AggregateError whose own message is empty: the log line must still say what happened.
  it('names the reasons inside an AggregateError that has no message of its own', () => {
    const refused = (address: string) => Object.assign(new Error(`connect ECONNREFUSED ${address}:6379`), { code: 'ECONNREFUSED' });
    const cause = new AggregateError([refused('::1'), refused('127.0.0.1')]);
    expect(failureReason(new DependencyUnavailableError('redis', cause))).toBe(
      'connect ECONNREFUSED ::1:6379; connect ECONNREFUSED 127.0.0.1:6379',
    );
    expect(failureReason(new AggregateError([refused('::1')], 'all attempts failed'))).toBe(
      'all attempts failed: connect ECONNREFUSED ::1:6379',
    );
  });

  // failureReason runs inside catch blocks: a throw there would turn a logged 503 into a 500.
  it('describes an AggregateError that holds itself once, without running out of stack', () => {
    const cause = new AggregateError([new Error('connect ECONNREFUSED ::1:6379')]);
    (cause.errors as unknown[]).push(cause);
    expect(failureReason(new DependencyUnavailableError('redis', cause))).toBe('connect ECONNREFUSED ::1:6379; AggregateError');
  });

  it('falls back to the error code, then its name, when an error has no message', () => {
    expect(failureReason(Object.assign(new Error(''), { code: 'ETIMEDOUT' }))).toBe('ETIMEDOUT');
    expect(failureReason(new TypeError(''))).toBe('TypeError');
  });
});
