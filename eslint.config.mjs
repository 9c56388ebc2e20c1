import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.scratch/**', 'web/.next/**', 'models/.venv/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  // Owners: the database drivers and the query builder live in store/ alone (the only SQL).
  {
    files: ['server/src/**/*.ts'],
    ignores: ['server/src/store/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'kysely', message: 'Only server/src/store/ talks to the database: add a Store method instead.' },
            { name: 'pg', message: 'Only server/src/store/ talks to the database: add a Store method instead.' },
            { name: 'better-sqlite3', message: 'Only server/src/store/ talks to the database: add a Store method instead.' },
          ],
        },
      ],
    },
  },
);
