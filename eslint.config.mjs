import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['**/node_modules', '**/dist', '**/tmp', '**/*.js', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // Pure cores and contracts depend on nothing but each other.
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:contract'] },
            { sourceTag: 'type:contract', onlyDependOnLibsWithTags: ['type:domain', 'type:contract'] },
            { sourceTag: 'type:data', onlyDependOnLibsWithTags: ['type:domain', 'type:contract'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:domain', 'type:contract', 'type:data'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:contract', 'type:data', 'type:testing'] },
            // Region and rack code stay apart; both may use shared libraries.
            { sourceTag: 'scope:region', onlyDependOnLibsWithTags: ['scope:region', 'scope:shared', 'scope:testing'] },
            { sourceTag: 'scope:rack', onlyDependOnLibsWithTags: ['scope:rack', 'scope:shared', 'scope:testing'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            // The test harness may reach the region's database library; only tests import it.
            { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:shared', 'scope:region'] },
          ],
        },
      ],
    },
  },
  {
    // The pure cores import no framework: no Nest, no ORM, no queue, no broker.
    files: ['libs/lifecycle/**/*.ts', 'libs/protocol/**/*.ts', 'libs/contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*', 'typeorm', 'bullmq', 'ioredis', 'pg', 'express'], message: 'Pure cores import no framework.' },
          ],
        },
      ],
    },
  },
  {
    // Contracts are schemas only; their NATS transport lives in libs/contracts/src/nats (imported by apps).
    files: ['libs/contracts/**/*.ts'],
    ignores: ['libs/contracts/src/nats/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@nestjs/*', 'typeorm', 'bullmq', 'ioredis', 'pg', 'express'], message: 'Pure cores import no framework.' },
            { group: ['nats', '*/nats', './nats/*'], message: 'Contracts stay transport-free: the transport is @kiln/contracts/nats.' },
          ],
        },
      ],
    },
  },
  {
    // The region validates power parameters with the catalogue: drivers run on racks, and the
    // BMC simulators belong to tests.
    files: ['apps/region/**/*.ts'],
    ignores: ['apps/region/**/*.spec.ts', 'apps/region/**/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@kiln/power', message: 'The region imports @kiln/power/catalogue (settings schemas, validation, error codes).' },
            { name: '@kiln/power/drivers', message: 'Power drivers run on racks; the region imports @kiln/power/catalogue.' },
            { name: '@kiln/power/testing', message: 'Power test harnesses are for spec and testing files only.' },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/rack/**/*.ts', 'apps/cli/**/*.ts'],
    ignores: ['apps/*/**/*.spec.ts', 'apps/*/**/testing/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: '@kiln/power/testing', message: 'Power test harnesses are for spec and testing files only.' }] },
      ],
    },
  },
];
