// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

// Layering (which folder may import which, only through index.ts, no cycles) is checked by
// scripts/check-layers.mjs from scripts/layers.mjs, run by `npm run lint` after ESLint.

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.vmsight/**', 'bin/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
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
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['scripts/**'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  prettier,
);
