import { fuzzSeed, UNLIMITED_BUDGETS } from '@nest-hardening/testing';

import { startTestSystem, type TestSystem } from './test-system';

export interface FuzzSuite {
  /** The run's seed: a failure prints it, and FUZZ_SEED=<seed> replays the run. */
  readonly seed: number;
  /** The whole system, started before the suite's own `beforeAll` hooks run. */
  readonly system: TestSystem;
}

/**
 * Registers what every fuzz suite needs: the seed, printed once, and the three apps with budgets that
 * never refuse (fuzzing is about answers, not about limits), closed after the suite. Call it at the
 * top of a `describe` block, before the suite's own hooks.
 */
export function fuzzSuite(label: string, authEnv: Record<string, string> = {}): FuzzSuite {
  const suite: { seed: number; system?: TestSystem } = { seed: fuzzSeed() };
  beforeAll(async () => {
    process.stdout.write(`${label}: FUZZ_SEED=${suite.seed}\n`);
    suite.system = await startTestSystem({
      label,
      gatewayEnv: UNLIMITED_BUDGETS.gatewayEnv,
      authEnv: { ...UNLIMITED_BUDGETS.authEnv, ...authEnv },
    });
  });
  afterAll(() => suite.system?.close());
  return {
    seed: suite.seed,
    get system(): TestSystem {
      if (!suite.system) throw new Error(`${label}: the system is not started yet (use it inside a hook or a test)`);
      return suite.system;
    },
  };
}

/** The claims of a JWT, unverified: tests read `sub` and `sid` of tokens the system issued. */
export function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
}
