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
});
