// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '.packs/**', 'examples/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Nest types route handlers and classes as `Function` (ExecutionContext.getHandler/getClass).
      '@typescript-eslint/no-unsafe-function-type': 'off',
      // In-memory implementations of asynchronous ports are `async` without awaiting, so that a thrown
      // error becomes a rejection exactly as with the Redis store they stand in for.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Response bodies from supertest and JSON.parse are `any` by design; tests assert their shape instead.
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', '**/*.reliability-spec.ts', '**/test/**/*.ts', 'libs/testing/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  prettier,
);
