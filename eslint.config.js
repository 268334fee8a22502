import js from '@eslint/js';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const STYLE = 'error';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'data/**',
      '.larder/**',
      'coverage/**',
      '.scratch/**',
      '.team/**',
      'src/console/dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Type imports: a module that gives values and types is imported once, types marked inline
      // (`import { a, type B }`); a module that gives only types is imported with `import type`, which
      // is erased (under verbatimModuleSyntax `import { type B }` alone still loads the module).
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      'import-x/no-duplicates': [STYLE, { 'prefer-inline': true }],
      // Private members are ECMAScript private fields (`#x`), not TypeScript's `private x`.
      'no-restricted-syntax': [
        STYLE,
        {
          selector:
            ':matches(PropertyDefinition, MethodDefinition[kind!="constructor"], TSParameterProperty, AccessorProperty)[accessibility="private"]',
          message: 'Use an ECMAScript private member (#name) instead of the `private` keyword.',
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
      },
    },
  },
);
