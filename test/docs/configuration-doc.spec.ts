import { readFileSync } from 'node:fs';

import { CONFIGURATION_DOC, renderConfigurationDoc, undocumentedSettings } from '../../scripts/docs/configuration-doc';

describe('docs/configuration.md', () => {
  it('documents every setting of every app', () => {
    expect(undocumentedSettings()).toEqual([]);
  });

  it('matches the zod schemas (regenerate with `npm run docs:config`)', () => {
    const current = readFileSync(CONFIGURATION_DOC, 'utf8');
    expect(renderConfigurationDoc(current)).toBe(current);
  });
});
