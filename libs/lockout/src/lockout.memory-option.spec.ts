import { Test } from '@nestjs/testing';

import { SecurityEventsModule } from '@nest-hardening/security-events';
import { watchMemoryStoreWarnings } from '@nest-hardening/testing';

import { startLoginTestApp, TEST_PASSWORD } from '../test/support/login-test-app';
import { LockoutModule } from './lockout.module';

describe("LockoutModule with store: 'memory' (adopters' unit tests, no Redis)", () => {
  const memoryWarnings = watchMemoryStoreWarnings();

  it('locks without any RedisModule, and does not warn outside production', async () => {
    process.env.NODE_ENV = 'test';
    const t = await startLoginTestApp({ store: 'memory', pairMaxFailures: 3 }, ['someone@example.com']);
    try {
      for (let i = 0; i < 3; i++) expect((await t.login('someone@example.com', 'wrong', '10.30.0.1')).status).toBe(401);
      const locked = await t.login('someone@example.com', TEST_PASSWORD, '10.30.0.1');
      expect(locked.status).toBe(429);
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
    expect(memoryWarnings()).toEqual([]);
  });

  it('warns at start-up when NODE_ENV=production', async () => {
    process.env.NODE_ENV = 'production';
    const t = await startLoginTestApp({ store: 'memory' }, []);
    await t.close();
    expect(memoryWarnings()).toContainEqual(expect.stringMatching(/^LockoutModule uses/));
  });

  it("without store: 'memory' and without RedisModule, start-up fails with a message saying what is missing", async () => {
    const compiling = Test.createTestingModule({
      imports: [
        SecurityEventsModule.forRoot({ service: 'lockout-memory-test', pseudonymKey: 'test-key', isGlobal: true }),
        LockoutModule.forRoot({ keySecret: 'test-key-secret' }),
      ],
    }).compile();
    await expect(compiling).rejects.toThrow(/LockoutModule needs the global RedisModule \(or store: 'memory' in unit tests\)/);
  });
});
