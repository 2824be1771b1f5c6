import type { Config } from 'jest';

type Project = Exclude<NonNullable<Config['projects']>[number], string>;

// Path aliases mirror tsconfig.json "paths": apps import libraries only through their barrels.
const common: Project = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^@nest-hardening/([a-z-]+)$': '<rootDir>/libs/$1/src' },
  // Built packages and the examples (separate projects with their own installs) are not part of the suite.
  modulePathIgnorePatterns: ['<rootDir>/libs/[^/]+/dist/', '<rootDir>/examples/', '<rootDir>/.packs/'],
  // Type-checking is done once by `npm run typecheck`, not per test file.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] },
};

const config: Config = {
  testTimeout: 60_000,
  projects: [
    // Each project is named for what it needs: `lib` a library or module against real Redis (and
    // Postgres where it has tables), `e2e` the three apps in process, `reliability` the built apps.
    {
      ...common,
      displayName: 'lib',
      testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/src/**/*.spec.ts', '<rootDir>/test/docs/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: [
        '<rootDir>/apps/**/test/**/*.e2e-spec.ts',
        '<rootDir>/libs/**/test/**/*.e2e-spec.ts',
        '<rootDir>/test/e2e/**/*.e2e-spec.ts',
      ],
    },
    // Multi-instance suite against the built apps as child processes: `npm run test:reliability` only.
    { ...common, displayName: 'reliability', testMatch: ['<rootDir>/test/reliability/**/*.reliability-spec.ts'] },
  ],
};

export default config;
