import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/peers/**', 'coverage/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Every error tributary raises is a TributaryError whose code is listed, with its meaning, in src/core/errors.ts.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'NewExpression[callee.name=/^(Error|TypeError|RangeError|SyntaxError|AggregateError)$/]',
          message: 'Raise a TributaryError with a code from ERROR_CODES (src/core/errors.ts).',
        },
        {
          selector: "ClassDeclaration[superClass.name=/Error$/][id.name!='TributaryError']",
          message: 'One error class: raise a TributaryError with a code from ERROR_CODES (src/core/errors.ts).',
        },
      ],
    },
  },
);
