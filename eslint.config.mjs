import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// --- Heavy-dependency owners (issue 11, item 3): each native/heavy package is imported by one folder only.
// A later block replaces an earlier block's `no-restricted-imports`, so every folder gets the full list
// minus the packages it owns.
const STORE_MESSAGE = 'Only server/src/store/ talks to the database: add a Store method instead.';
const OWNED_PACKAGES = {
  'onnxruntime-node': 'server/src/inference',
  'hnswlib-node': 'server/src/vectors',
  'fluent-ffmpeg': 'server/src/audio',
  // Metrics are defined and served in one place; other modules call what metrics.ts exports.
  'prom-client': 'server/src/metrics',
  // The database drivers and the query builder live in store/ alone (the only SQL).
  kysely: 'server/src/store',
  pg: 'server/src/store',
  'better-sqlite3': 'server/src/store',
  // JSON log lines, their redaction and the request/job scopes: one logger for the whole server.
  pino: 'server/src/logging',
};
const messageFor = (name, owner) =>
  owner === 'server/src/store' ? STORE_MESSAGE : `Only ${owner}/ imports ${name}; use what that module exports.`;
const restrictOwnedImports = (except) => [
  'error',
  {
    paths: Object.entries(OWNED_PACKAGES)
      .filter(([, owner]) => owner !== except)
      .map(([name, owner]) => ({ name, message: messageFor(name, owner) })),
  },
];
const ownerRules = [
  { files: ['server/src/**/*.ts'], rules: { 'no-restricted-imports': restrictOwnedImports(null) } },
  ...[...new Set(Object.values(OWNED_PACKAGES))].map((owner) => ({
    files: [`${owner}/**/*.ts`],
    rules: { 'no-restricted-imports': restrictOwnedImports(owner) },
  })),
];
// models/ sits below eval/, formats/ and cli/: model lookup must not pull in scoring or the dev set.
ownerRules.push({
  files: ['server/src/models/**/*.ts'],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        ...restrictOwnedImports(null)[1],
        patterns: [{ group: ['../eval/*', '../formats/*', '../cli/*'], message: 'models/ must not import eval/, formats/ or cli/ (calibration data is a CLI concern).' }],
      },
    ],
  },
});
// The web app bundles one server module, the transcript format detection; it stays free of server imports.
ownerRules.push(
  {
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '/server/src/(?!transcripts/detect$)',
              message: 'The web app imports only server/src/transcripts/detect.ts from the server (it goes into the browser bundle).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['server/src/transcripts/detect.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!\\./types$)', message: 'detect.ts is bundled into the web app: import nothing but ./types.' }] },
      ],
    },
  },
);
// --- end of heavy-dependency owners

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
  ...ownerRules,
);
