import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadProfileServiceConfig } from './profile-service.config';

const SECRET = 'a-rotated-secret-of-at-least-32-characters';
/** The value docker-compose.yml publishes. */
const PUBLISHED_GATEWAY_SECRET = 'local-only-gateway-secret-do-not-deploy-0000';

describe('loadProfileServiceConfig', () => {
  let keysDir: string;
  beforeAll(() => {
    keysDir = mkdtempSync(join(tmpdir(), 'sec-profile-config-'));
  });
  afterAll(() => rmSync(keysDir, { recursive: true, force: true }));

  it('refuses to start when GATEWAY_SECRET_PREVIOUS equals GATEWAY_SECRET, naming it without its value', () => {
    const load = () => loadProfileServiceConfig({ KEYS_DIR: keysDir, GATEWAY_SECRET: SECRET, GATEWAY_SECRET_PREVIOUS: SECRET });
    expect(load).toThrow(/GATEWAY_SECRET_PREVIOUS: must differ from GATEWAY_SECRET/);
    expect(load).not.toThrow(SECRET);
  });

  it('refuses in production a GATEWAY_SECRET_PREVIOUS published in docker-compose.yml', () => {
    const production = { KEYS_DIR: keysDir, NODE_ENV: 'production', PSEUDONYM_SECRET: `pseudonym-${SECRET}`, GATEWAY_SECRET: SECRET };
    expect(loadProfileServiceConfig(production).gatewaySecret).toBe(SECRET);
    expect(() => loadProfileServiceConfig({ ...production, GATEWAY_SECRET_PREVIOUS: PUBLISHED_GATEWAY_SECRET })).toThrow(
      /local-only values .* cannot be used in production: GATEWAY_SECRET_PREVIOUS$/,
    );
  });

  it('refuses in production a GATEWAY_SECRET_PREVIOUS equal to PSEUDONYM_SECRET, naming both', () => {
    const production = { KEYS_DIR: keysDir, NODE_ENV: 'production', PSEUDONYM_SECRET: `pseudonym-${SECRET}`, GATEWAY_SECRET: SECRET };
    const load = () => loadProfileServiceConfig({ ...production, GATEWAY_SECRET_PREVIOUS: production.PSEUDONYM_SECRET });
    expect(load).toThrow('GATEWAY_SECRET_PREVIOUS and PSEUDONYM_SECRET: must differ (one secret per purpose)');
    expect(load).not.toThrow(SECRET);
  });
});
