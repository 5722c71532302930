// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.cache/**', 'tools/**/*.go'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // Step functions, connectors and runtimes implement async interfaces; an
      // implementation that happens not to await is still correct.
      '@typescript-eslint/require-await': 'off',
      // `json<T>()` on a response is a deliberate, documented cast point.
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
    },
  },
  {
    // Plain JavaScript tools (the auditor's standalone verifier) are not part of the TS project.
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { process: 'readonly', Buffer: 'readonly' } },
  },
  {
    // Practice 1: the engine does no I/O of its own and knows no connector.
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/connectors/**', '**/lab/**', '**/cli/**', '**/server/**'], message: 'the engine must not depend on connectors, lab, cli or server' },
        { group: ['node:http', 'node:https', 'node:net', 'node:child_process', 'undici'], message: 'the engine does no network or process I/O' },
      ] }],
    },
  },
  {
    files: ['src/connectors/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/engine/**', '**/store/**', '**/cli/**', '**/server/**', '**/lab/**'], message: 'connectors import only lib' },
      ] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] }],
    },
  },
);
