import type { Config } from 'jest';

// Path aliases mirror tsconfig.json "paths": apps import libraries only through their barrels.
const moduleNameMapper = {
  '^@lib/([a-z-]+)$': '<rootDir>/libs/$1/src',
};

// isolatedModules: type-checking is done once by `npm run typecheck`, not per test file.
const transform = {
  '^.+\\.ts$': ['ts-jest', { isolatedModules: true, tsconfig: '<rootDir>/tsconfig.json' }],
};

const common = {
  rootDir: '.',
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  transform,
};

const config: Config = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/src/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/apps/**/test/**/*.e2e-spec.ts'],
      testTimeout: 60_000,
    },
  ],
};

export default config;
