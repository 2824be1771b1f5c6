import type { ResolvedLockoutOptions } from '../../src/lockout-options.interface';
import type { LockoutReservation } from '../../src/lockout-reservation.interface';
import type { LockoutState } from '../../src/lockout-state.interface';
import type { FailureOutcome, LockoutStore, ReserveOutcome } from '../../src/lockout.store';
import { explore, LockoutModel, type ModelReservation, type ModelReserve, type ModelState } from './lockout-model';

export type Settle = 'fail' | 'succeed' | 'release';
export interface Login {
  email: number;
  ip: number;
  settle: Settle | 'hold';
}
export type ModelOp =
  | ({ kind: 'attempt' } & Login)
  | { kind: 'burst'; email: number; ip: number; times: number }
  /** Logins in flight at once, each reserved and then settled as it says. */
  | { kind: 'concurrent'; logins: Login[] }
  | { kind: 'settle'; which: number; settle: Settle }
  /** An admin unlock, or with `forgetKnown` a password-change reset. */
  | { kind: 'unlock'; email: number; forgetKnown: boolean }
  | { kind: 'state'; email: number; ip: number }
  /** LOCKOUT_SECRET changes, the old value as LOCKOUT_SECRET_PREVIOUS (the first one in a run; later ones do nothing). */
  | { kind: 'rotate' }
  | { kind: 'advance'; ms: number };

/** One store under test, its answers put in the model's terms (addresses by name, times relative). */
export interface ModelSubject {
  name: string;
  store: LockoutStore;
  /**
   * How the store reserves: in one atomic step (single Redis, memory), or in the two steps of a
   * Redis Cluster (address, then account, the address refunded when the account refuses:
   * docs/decisions/003), between which concurrent operations may run.
   */
  reservation: 'one-step' | 'two-step';
  /** The store an instance restarted with a new key secret (the old one as previous) would use. */
  rotate?: () => LockoutStore;
  /** Allowed difference of times (Redis's clock runs on while the model's stands still). */
  slackMs: () => number;
  /** This store's time for the model's time `t`. */
  timeOf: (t: number) => number;
  /** Lets this store's clock pass the model's millisecond per operation (Redis orders addresses by time). */
  tick: () => Promise<void>;
}

interface Held {
  at: number;
  model: ModelReservation;
  real: LockoutReservation;
  /** The instance that reserved it settles it (the request is served by one process). */
  store: LockoutStore;
}

/**
 * Every state the model can be in after what the store answered so far: one, until operations run
 * concurrently; then one per order of their atomic steps that gives the answers the store gave
 * (kept while they differ in what the store could still show).
 */
type Candidates = LockoutModel[];

function hasState(a: { lockedUntil: unknown; backoffLevel: number; failures: number; pending: number }): boolean {
  return Boolean(a.lockedUntil) || a.backoffLevel > 0 || a.failures > 0 || a.pending > 0;
}

const near = (actual: number, expected: number, slack: number) => Math.abs(actual - expected) <= slack;

function sameReserve(expected: ModelReserve, got: ReserveOutcome, slack: number): boolean {
  return expected.allowed
    ? got.allowed && got.reservation.knownAddress === expected.reservation.knownAddress
    : !got.allowed && got.rule === expected.rule && near(got.waitMs, expected.waitMs, slack);
}

/**
 * Runs the operations on the model and on the subject, comparing each answer. Each operation is one
 * model millisecond. Concurrent logins are checked against every order of their atomic steps (a
 * one-step store: reserve; a two-step store: address step, account step, refund; then the account's
 * and the address's part of the settlement, independently): the store's answers must be those of
 * at least one order, and later answers must fit one of the states such an order leaves.
 */
export async function runAgainstModel(
  options: ResolvedLockoutOptions,
  ops: ModelOp[],
  subject: ModelSubject,
  clock: { now: number },
  run: { emails: string[]; ips: string[] },
): Promise<void> {
  const { emails, ips } = run;
  let candidates: Candidates = [new LockoutModel(options)];
  let store = subject.store;
  let rotated = false;
  const names = new Map<string, string>();
  const learnNames = () => ips.forEach((a) => names.set(store.subject('', a).addressHash, a));
  learnNames();
  const held: Held[] = [];
  const log: string[] = [];
  let opIndex = 0;

  const fail = (what: string, detail: unknown): never => {
    throw new Error(`${subject.name}: ${what}\nafter:\n  ${log.join('\n  ')}\n${JSON.stringify(detail, null, 1)}`);
  };
  /** Runs the operation on every candidate and keeps the outcomes whose answer matches the store's. */
  const narrow = <T>(what: string, answer: (m: LockoutModel) => T, matches: (expected: T) => boolean, got: unknown) => {
    const answers = candidates.flatMap((m) => explore(m, answer));
    const kept = answers.filter(([, expected]) => matches(expected));
    if (kept.length === 0) fail(`${what} differs from the model`, { expected: answers[0][1], got, candidates: answers.length });
    candidates = kept.map(([m]) => m);
  };

  const stateMatches = (expected: ModelState, got: LockoutState): boolean => {
    const slack = subject.slackMs();
    const timeOk = (actual: Date | null, exp: number) =>
      exp === 0 ? actual === null : actual !== null && near(actual.getTime(), subject.timeOf(exp), slack);
    // A listed address whose pair state has all lapsed may be left out: the memory store forgets an
    // account's list with its last count or lock (by design), Redis keeps it for the list's TTL.
    // Known addresses are checked through the exemption they give (`knownAddress`, refusals).
    const want = expected.addresses.filter(hasState);
    const listed = got.addresses.filter(hasState).map((a) => ({ ...a, ip: names.get(a.address) ?? `unknown ${a.address}` }));
    const byIp = new Map(want.map((a) => [a.ip, a]));
    // Most recent first; addresses recorded at the same moment (concurrent logins) in either order.
    const inOrder = () => listed.every((a, j) => j === 0 || byIp.get(listed[j - 1].ip)!.lastAttemptAt >= byIp.get(a.ip)!.lastAttemptAt);
    return (
      timeOk(got.emailLockedUntil, expected.emailLockedUntil) &&
      got.emailLocked === expected.emailLockedUntil > 0 &&
      got.emailFailures === expected.emailFailures &&
      got.emailPending === expected.emailPending &&
      got.locked === (expected.emailLockedUntil > 0 || expected.addresses.some((a) => a.lockedUntil > 0)) &&
      got.backoffLevel === Math.max(0, ...expected.addresses.map((a) => a.backoffLevel)) &&
      listed.length === want.length &&
      listed.every((a) => byIp.has(a.ip)) &&
      new Set(listed.map((a) => a.ip)).size === listed.length &&
      inOrder() &&
      listed.every((a) => {
        const e = byIp.get(a.ip)!;
        return (
          timeOk(a.lockedUntil, e.lockedUntil) &&
          a.backoffLevel === e.backoffLevel &&
          a.failures === e.failures &&
          a.pending === e.pending &&
          timeOk(a.lastSuccessAt, e.lastSuccessAt)
        );
      }) &&
      (expected.ip === undefined ||
        (got.ip !== undefined &&
          timeOk(got.ip.blockedUntil, expected.ip.blockedUntil) &&
          got.ip.failures === expected.ip.failures &&
          got.ip.pending === expected.ip.pending))
    );
  };
  const shown = (got: LockoutState) => ({ ...got, addresses: got.addresses.map((a) => ({ ...a, ip: names.get(a.address) })) });
  const checkState = (label: string, answer: (m: LockoutModel) => ModelState, got: LockoutState) =>
    narrow(label, answer, (expected) => stateMatches(expected, got), shown(got));

  const settleHeld = async (h: Held, how: Settle) => {
    if (how === 'fail') {
      const got = await h.store.confirmFailure(h.real);
      narrow(
        'confirmFailure',
        (m) => m.confirmFailure(h.model, clock.now),
        (e) => JSON.stringify(e) === JSON.stringify(got),
        got,
      );
    } else if (how === 'succeed') {
      const got = await h.store.recordSuccess(h.real);
      narrow(
        'recordSuccess (account-wide lock ended)',
        (m) => m.recordSuccess(h.model, clock.now),
        (ended) => ended === got.emailLockEnded,
        got,
      );
    } else {
      const got = await h.store.release(h.real);
      // Past its windows, whether anything was left to give back depends on each store's cleanup;
      // the attempt counts nowhere either way (the state comparisons check that).
      const stale = clock.now - h.at >= Math.min(options.pairWindowMs, options.emailWindowMs, options.ipWindowMs);
      narrow(
        'release',
        (m) => m.release(h.model, clock.now),
        (e) => stale || e === got,
        got,
      );
    }
  };

  const attempt = async (login: Login, id: string) => {
    const [email, ip] = [emails[login.email], ips[login.ip]];
    const got = await store.reserve(email, ip);
    const reserve = (m: LockoutModel) => {
      if (rotated) m.moveKnown(email, ip, clock.now);
      return m.reserve(email, ip, clock.now, id);
    };
    narrow('reserve', reserve, (e) => sameReserve(e, got, subject.slackMs()), got);
    if (!got.allowed) return;
    const h: Held = { at: clock.now, model: { id, email, ip, knownAddress: got.reservation.knownAddress }, real: got.reservation, store };
    if (login.settle === 'hold') held.push(h);
    else await settleHeld(h, login.settle);
  };

  const concurrent = async (logins: Login[]) => {
    const ids = logins.map((_, k) => `o${opIndex}.${k}`);
    const answers = await Promise.all(logins.map((login) => loginOnce(store, emails[login.email], ips[login.ip], login.settle)));
    candidates = await interleavings(candidates, logins, ids, answers, subject, rotated, clock.now, emails, ips, (detail) =>
      fail('concurrent logins: no order of their steps gives these answers', detail),
    );
    logins.forEach((login, k) => {
      const reserved = answers[k].reserve;
      if (login.settle !== 'hold' || !reserved.allowed) return;
      const model = { id: ids[k], email: emails[login.email], ip: ips[login.ip], knownAddress: reserved.reservation.knownAddress };
      held.push({ at: clock.now, model, real: reserved.reservation, store });
    });
    // What the store shows now tells the orders apart, so the candidates do not multiply batch after batch.
    for (const e of new Set(logins.map((l) => l.email))) {
      const ip = logins.find((l) => l.email === e)!.ip;
      const got = await store.readState(emails[e], ips[ip]);
      checkState('state after concurrent logins', (m) => m.state(emails[e], clock.now, ips[ip]), got);
    }
  };

  for (const op of ops.flatMap((o): ModelOp[] =>
    o.kind === 'burst' ? Array.from({ length: o.times }, () => ({ kind: 'attempt', email: o.email, ip: o.ip, settle: 'fail' })) : [o],
  )) {
    opIndex++;
    log.push(JSON.stringify(op));
    if (op.kind === 'advance') {
      clock.now += op.ms;
      continue;
    }
    clock.now += 1;
    await subject.tick();
    if (op.kind === 'attempt') {
      await attempt(op, `o${opIndex}`);
    } else if (op.kind === 'concurrent') {
      await concurrent(op.logins);
    } else if (op.kind === 'settle') {
      const h = held.splice(op.which % Math.max(1, held.length), 1)[0];
      if (h) await settleHeld(h, op.settle);
    } else if (op.kind === 'unlock') {
      const got = await store.unlock(emails[op.email], { forgetKnownAddresses: op.forgetKnown });
      checkState('unlock (state before)', (m) => m.unlock(emails[op.email], clock.now, op.forgetKnown), got);
    } else if (op.kind === 'state') {
      const got = await store.readState(emails[op.email], ips[op.ip]);
      checkState('state', (m) => m.state(emails[op.email], clock.now, ips[op.ip]), got);
    } else if (op.kind === 'rotate' && subject.rotate && !rotated) {
      // A restart: the old instance finishes the logins it has in flight (wrong passwords) first.
      for (const h of held.splice(0)) {
        clock.now += 1;
        await subject.tick();
        await settleHeld(h, 'fail');
      }
      store = subject.rotate();
      rotated = true;
      for (const m of candidates) m.rotate(clock.now);
      learnNames();
    }
  }
  // Every account ends with a full comparison.
  for (let e = 0; e < emails.length; e++) {
    const got = await store.readState(emails[e], ips[0]);
    checkState('final state', (m) => m.state(emails[e], clock.now, ips[0]), got);
  }
}

interface LoginAnswer {
  reserve: ReserveOutcome;
  failure?: FailureOutcome;
  released?: boolean;
}

async function loginOnce(store: LockoutStore, email: string, ip: string, settle: Settle | 'hold'): Promise<LoginAnswer> {
  const reserve = await store.reserve(email, ip);
  if (!reserve.allowed || settle === 'hold') return { reserve };
  if (settle === 'fail') return { reserve, failure: await store.confirmFailure(reserve.reservation) };
  if (settle === 'release') return { reserve, released: await store.release(reserve.reservation) };
  await store.recordSuccess(reserve.reservation);
  return { reserve };
}

/** Where one login stands in one order of steps. */
interface Progress {
  phase: 'start' | 'moved' | 'account' | 'refund' | 'settle' | 'done';
  addressWaitMs: number;
  accountPart: boolean;
  addressPart: boolean;
  released: boolean;
}

type Step = 'move' | 'address' | 'account' | 'refund' | 'accountPart' | 'addressPart';

/** The atomic steps a login can take next (a move of its state first, during a key-secret rotation). */
function nextSteps(p: Progress, reservation: ModelSubject['reservation'], rotated: boolean): Step[] {
  if (p.phase === 'done') return [];
  if (p.phase === 'start' && rotated) return ['move'];
  if ((p.phase === 'start' || p.phase === 'moved') && reservation === 'two-step') return ['address'];
  if (p.phase === 'start' || p.phase === 'moved' || p.phase === 'account') return ['account'];
  if (p.phase === 'refund') return ['refund'];
  return [...(p.accountPart ? [] : ['accountPart' as const]), ...(p.addressPart ? [] : ['addressPart' as const])];
}

/**
 * The model states reachable by some order of the logins' atomic steps that answers as the store
 * did. Breadth first, one step at a time, merging orders that reach the same state.
 */
async function interleavings(
  from: Candidates,
  logins: Login[],
  ids: string[],
  answers: LoginAnswer[],
  subject: ModelSubject,
  rotated: boolean,
  now: number,
  emails: string[],
  ips: string[],
  fail: (detail: unknown) => never,
): Promise<Candidates> {
  const slack = subject.slackMs();
  const start: Progress = { phase: 'start', addressWaitMs: 0, accountPart: false, addressPart: false, released: false };
  let frontier = from.map((model) => ({ model, progress: logins.map(() => start) }));
  const finished = new Map<string, LockoutModel>();
  while (frontier.length > 0) {
    const next = new Map<string, (typeof frontier)[number]>();
    for (const { model, progress } of frontier) {
      if (progress.every((p) => p.phase === 'done')) {
        finished.set(model.fingerprint(now), model);
        continue;
      }
      progress.forEach((p, k) => {
        for (const step of nextSteps(p, subject.reservation, rotated)) {
          const context = { login: logins[k], id: ids[k], answer: answers[k], now, emails, ips, slack };
          for (const [m, moved] of explore(model, (m) => applyStep(m, p, step, context))) {
            if (!moved) continue;
            const q = progress.map((x, j) => (j === k ? moved : x));
            const key = `${JSON.stringify(q)}${m.fingerprint(now)}`;
            if (!next.has(key)) next.set(key, { model: m, progress: q });
          }
        }
      });
    }
    frontier = [...next.values()];
    // The other stores' calls are under way meanwhile: let their answers in before their timeouts.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  if (finished.size === 0) fail({ logins: logins.map((l, k) => ({ ...l, id: ids[k] })), answers });
  return [...finished.values()];
}

interface StepContext {
  login: Login;
  id: string;
  answer: LoginAnswer;
  now: number;
  emails: string[];
  ips: string[];
  slack: number;
}

/** Runs one step of one login on `m`: where the login stands then, or undefined if its answer is not the store's. */
function applyStep(m: LockoutModel, from: Progress, step: Step, c: StepContext): Progress | undefined {
  const { login, id, answer, now } = c;
  const [email, ip] = [c.emails[login.email], c.ips[login.ip]];
  const r: ModelReservation = { id, email, ip, knownAddress: answer.reserve.allowed && answer.reserve.reservation.knownAddress };
  const p = { ...from };
  const settling = (): Progress['phase'] => (login.settle === 'hold' ? 'done' : 'settle');
  switch (step) {
    case 'move':
      m.moveKnown(email, ip, now);
      p.phase = 'moved';
      return p;
    case 'address':
      p.addressWaitMs = m.reserveAddress(ip, now, id).waitMs;
      p.phase = 'account';
      return p;
    case 'account': {
      const expected =
        p.phase !== 'account'
          ? m.reserve(email, ip, now, id)
          : m.reserveAccount(email, ip, now, id, p.addressWaitMs > 0 ? 'peek' : 'reserve', p.addressWaitMs);
      if (!sameReserve(expected, answer.reserve, c.slack)) return undefined;
      if (expected.allowed) p.phase = settling();
      else p.phase = p.phase === 'account' && p.addressWaitMs === 0 ? 'refund' : 'done';
      return p;
    }
    case 'refund':
      m.releaseAddress(r, now);
      p.phase = 'done';
      return p;
    case 'accountPart':
      p.accountPart = true;
      if (login.settle === 'fail') {
        const got = answer.failure!;
        const e = m.confirmAccountFailure(r, now);
        if (e.pairLockMs !== got.pairLockMs || e.backoffLevel !== got.backoffLevel || e.emailLockMs !== got.emailLockMs) return undefined;
      } else if (login.settle === 'succeed') m.recordAccountSuccess(r, now);
      else p.released = m.releaseAccount(r, now) || p.released;
      break;
    case 'addressPart':
      p.addressPart = true;
      if (login.settle === 'fail') {
        if (m.confirmAddressFailure(r, now) !== answer.failure!.ipBlockMs) return undefined;
      } else p.released = m.releaseAddress(r, now) || p.released;
      break;
  }
  if (p.accountPart && p.addressPart) {
    p.phase = 'done';
    if (login.settle === 'release' && p.released !== answer.released) return undefined;
  }
  return p;
}
