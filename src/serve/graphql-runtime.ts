import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';

/**
 * The graphql runtime, loaded exactly as Mercurius and graphql-jit load it (CommonJS `require`).
 *
 * graphql 16 ships both `index.js` (CJS) and `index.mjs` (ESM) with no `exports` map. Node resolves
 * an ESM `import 'graphql'` to the CJS file, but bundler-style resolvers (Vite, so vitest) pick the
 * `.mjs` one, and then our schema objects fail graphql's cross-realm `instanceof` checks inside
 * Mercurius ("Cannot use GraphQLSchema from another module or realm"). Requiring it here gives one
 * instance everywhere. Import types from 'graphql' as usual; import values from this module.
 */
const graphql = createRequire(import.meta.url)('graphql') as typeof GraphQL;

export const {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLError,
  GraphQLFloat,
  GraphQLID,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLScalarType,
  GraphQLSchema,
  GraphQLString,
  Kind,
  Lexer,
  Source,
  TokenKind,
  getArgumentValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  parse,
  printSchema,
  printType,
  specifiedRules,
  validate,
  validateSchema,
} = graphql;
