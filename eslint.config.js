// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import boundaries from 'eslint-plugin-boundaries';
import prettier from 'eslint-config-prettier';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * The layering of ARCHITECTURE.md, enforced: each folder of src/ may import only the folders listed
 * here, and only through their index.ts. `app` composes everything; `cli` renders `app`.
 */
const LAYERS = {
  core: [],
  connectors: ['core'],
  layers: ['core', 'connectors'],
  symbols: ['core', 'connectors', 'layers'],
  profiles: ['core', 'connectors', 'layers', 'symbols'],
  plugins: ['core', 'connectors', 'layers', 'symbols', 'profiles'],
  lab: ['core', 'connectors', 'layers'],
  events: ['core'],
  detectors: ['core'],
  sensors: ['core', 'events', 'connectors', 'layers', 'symbols', 'profiles'],
  guard: ['core', 'events', 'connectors'],
  alerts: ['core', 'events'],
  evidence: ['core', 'alerts', 'connectors', 'layers'],
  reports: ['core', 'evidence', 'alerts'],
  app: [
    'core',
    'connectors',
    'layers',
    'symbols',
    'profiles',
    'plugins',
    'lab',
    'events',
    'detectors',
    'sensors',
    'guard',
    'alerts',
    'evidence',
    'reports',
  ],
  cli: ['core', 'app'],
  api: ['core', 'app'],
  web: ['core', 'app'],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.vmsight/**', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX, boundaries },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver()],
      'import/resolver': { typescript: { alwaysTryTypes: true } },
      'boundaries/include': ['src/**/*.ts'],
      'boundaries/elements': Object.keys(LAYERS).map((name) => ({
        type: name,
        pattern: `src/${name}`,
        mode: 'folder',
      })),
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'import-x/no-cycle': 'error',
      'import-x/no-self-import': 'error',
      'boundaries/element-types': [
        'error',
        {
          default: 'disallow',
          rules: Object.entries(LAYERS).map(([from, allow]) => ({ from, allow: [from, ...allow] })),
        },
      ],
      // Other folders are reached only through their index.ts (STYLE.md habit 2).
      'boundaries/entry-point': [
        'error',
        {
          default: 'disallow',
          rules: [{ target: Object.keys(LAYERS), allow: 'index.ts' }],
        },
      ],
      // Error messages: no contractions, no trailing period (STYLE.md habit 9), checked on the
      // string literals and templates passed to VmsightError.
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "NewExpression[callee.name='VmsightError'] > Literal:nth-child(2)[value=/(n't|\\.)$/]",
          message: 'Error messages end without a period and use no contractions',
        },
        {
          selector:
            "NewExpression[callee.name='VmsightError'] > TemplateLiteral:nth-child(2) TemplateElement[tail=true][value.raw=/\\.$/]",
          message: 'Error messages end without a period',
        },
      ],
    },
  },
  {
    // Tests and benchmarks may also boot the lab guest (their fixture), wherever they sit.
    files: ['src/**/*.test.ts', 'src/**/*.bench.ts'],
    rules: {
      'boundaries/element-types': [
        'error',
        {
          default: 'disallow',
          rules: Object.entries(LAYERS).map(([from, allow]) => ({
            from,
            allow: [from, 'lab', ...allow],
          })),
        },
      ],
      // ...and reach test support through a folder's internal.ts.
      'boundaries/entry-point': [
        'error',
        {
          default: 'disallow',
          rules: [{ target: Object.keys(LAYERS), allow: ['index.ts', 'internal.ts'] }],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['scripts/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  prettier,
);
