import { Test } from '@nestjs/testing';

import { SecurityEventsModule } from './security-events.module';
import type { SecurityEventsModuleOptions } from './security-events.module-definition';
import { SecurityEvents } from './security-events.service';

/** What starting an app with these options gives: the start-up error, or the pseudonym of an email. */
async function start(options: Partial<SecurityEventsModuleOptions>): Promise<{ error?: string; pseudonym?: string }> {
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [SecurityEventsModule.forRootAsync({ useFactory: () => options as SecurityEventsModuleOptions })],
    }).compile();
    try {
      return { pseudonym: moduleRef.get(SecurityEvents).pseudonymize('someone@example.com') };
    } finally {
      await moduleRef.close();
    }
  } catch (error) {
    return { error: (error as Error).message };
  }
}

describe('SecurityEventsModule options', () => {
  // The README wires `pseudonymKey: process.env.PSEUDONYM_KEY!`: without the variable, an app that
  // started anyway answered 500 at its first security event (the lock, the first 429) instead of
  // refusing the login; with an empty key anyone can recompute the pseudonyms from a list of emails.
  it.each([
    { what: 'an unset pseudonymKey (process.env.PSEUDONYM_KEY!)', change: { pseudonymKey: undefined } },
    { what: 'an empty pseudonymKey (PSEUDONYM_KEY= in a .env file)', change: { pseudonymKey: '' } },
  ])('refuses to start with $what, naming the option', async ({ change }) => {
    const outcome = await start({ service: 'options-test', ...change });
    expect(outcome.error).toMatch(/^SecurityEventsModule: pseudonymKey must be a non-empty secret/);
  });

  it('refuses to start without a service name, naming the option', async () => {
    const outcome = await start({ pseudonymKey: 'a-key' });
    expect(outcome.error).toMatch(/^SecurityEventsModule: service must be a non-empty name/);
  });

  it('starts with a service and a key', async () => {
    const outcome = await start({ service: 'options-test', pseudonymKey: 'a-key' });
    expect(outcome).toEqual({ pseudonym: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
  });
});
