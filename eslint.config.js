// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX, createNodeResolver } from 'eslint-plugin-import-x';

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
    // No import cycles anywhere in the product: the layers are
    // lib ← store, connectors ← engine ← runtime ← app ← cli (lab beside).
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })], 'import-x/extensions': ['.ts', '.js'] },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    // Practice 1: the engine is pure (model, validation, planning, executor,
    // retry, rate limits): no I/O, no store, no runtime, no connector.
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/connectors/**', '**/lab/**', '**/cli/**', '**/server/**', '**/store/**', '**/runtime/**', '**/app/**', '**/config/**', '**/audit/**', '**/incidents/**', '**/playbooks/**'], message: 'the engine depends only on lib: no connectors, store, runtime, app, config, audit, incidents, lab, cli or server' },
        { group: ['node:http', 'node:https', 'node:net', 'node:child_process', 'node:sqlite', 'node:fs', 'node:fs/*', 'node:os', 'node:worker_threads', 'undici', 'pg'], message: 'the engine does no I/O: storage is the runtime\'s, network and processes the connectors\'' },
      ] }],
    },
  },
  {
    // The runtime implements the engine's interface over a store; it knows no application, CLI or connector.
    files: ['src/runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/connectors/**', '**/lab/**', '**/cli/**', '**/server/**', '**/app/**', '**/playbooks/**', '**/config/**'], message: 'a runtime depends on the engine, the store and lib only' },
      ] }],
    },
  },
  {
    // Store: SQLite plumbing below everything but lib.
    files: ['src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/engine/**', '**/runtime/**', '**/app/**', '**/cli/**', '**/connectors/**', '**/playbooks/**', '**/lab/**'], message: 'the store depends on lib only' },
      ] }],
    },
  },
  {
    // The CLI is a thin edge over the application: it never reaches the store, the journal or a runtime.
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/store/**', '**/runtime/**', 'node:sqlite'], message: 'the CLI goes through the application services (src/app), never the store or the journal' },
      ] }],
    },
  },
  {
    files: ['src/connectors/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/engine/**', '**/store/**', '**/runtime/**', '**/app/**', '**/cli/**', '**/server/**', '**/lab/**', '**/playbooks/**'], message: 'connectors import only lib (and config types)' },
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
