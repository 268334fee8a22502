import type { DocumentNode, GraphQLSchema, ValidationRule } from 'graphql';
import { isLarderError, LarderError } from '../errors.ts';
import { DocumentShape } from './document-shape.ts';
import {
  GraphQLError,
  Lexer,
  Source,
  TokenKind,
  parse,
  specifiedRules,
  validate,
} from './graphql-runtime.ts';
import { checkDepth, checkQuerySize, MAX_INTROSPECTION_DEPTH, type ServeLimits } from './limits.ts';

export type QueryGuardLimits = Pick<
  ServeLimits,
  'maxDepth' | 'maxFields' | 'maxFragmentSpreads' | 'maxQueryBytes' | 'maxQueryTokens'
>;

/**
 * Brackets (`{`, `(`, `[`) may nest this much deeper than fields do: arguments and input values
 * (`input: {filter: [{in: [1]}]}`) nest inside a field without adding to its depth.
 */
const BRACKET_SLACK = 32;

/**
 * Checks a query text before anything parses it for execution, so no text can make validation or
 * execution do more than linear work in its size:
 *
 * 1. its size in bytes (`maxQueryBytes`);
 * 2. one lexical pass: its tokens (`maxQueryTokens`), its fragment spreads (`maxFragmentSpreads`:
 *    graphql's overlapping-fields check compares the fragments of a selection pairwise) and how
 *    deep its brackets nest, which bounds the recursion of every later pass (graphql's parser and
 *    validation recurse per level);
 * 3. graphql's parser (a syntax error is refused here: Mercurius would otherwise try the text as a
 *    JSON AST);
 * 4. the document's shape, measured once per fragment (document-shape.ts): a fragment cycle,
 *    field depth (`maxDepth`) and fields once fragments are spread (`maxFields`, which also bounds
 *    graphql's pairwise overlapping-fields check).
 *
 * Texts that passed are remembered (bounded, oldest first out), so repeat queries cost a lookup.
 * Throws a LarderError for a limit, or graphql's GraphQLError for a syntax error.
 */
export class QueryGuard {
  readonly #limits: QueryGuardLimits;
  readonly #passed = new Set<string>();
  readonly #max: number;

  constructor(limits: QueryGuardLimits, maxRemembered = 1024) {
    this.#limits = limits;
    this.#max = maxRemembered;
  }

  check(source: string): void {
    if (this.#passed.has(source)) return;
    checkQueryText(source, this.#limits);
    if (this.#passed.size >= this.#max) this.#passed.delete(this.#passed.values().next().value as string);
    this.#passed.add(source);
  }
}

/** The checks of `QueryGuard`, uncached; returns the parsed document. */
export function checkQueryText(source: string, limits: QueryGuardLimits): DocumentNode {
  checkQuerySize(source, limits);
  scanTokens(source, limits);
  const document = parse(source, { maxTokens: limits.maxQueryTokens });
  const shape = DocumentShape.ofDocument(document);
  if (shape.cycle !== undefined) {
    throw new LarderError(
      'LARDER_ERR_QUERY_INVALID',
      `Cannot spread fragment "${shape.cycle}" within itself.`,
      {
        details: { fragment: shape.cycle },
      },
    );
  }
  const deep = checkDepth(shape, limits.maxDepth);
  if (deep !== undefined) throw deep;
  if (shape.fields > limits.maxFields) {
    throw new LarderError(
      'LARDER_ERR_LIMIT_FIELDS',
      `the query selects ${shape.fields} fields once its fragments are spread; the limit is ${limits.maxFields}`,
      { details: { limit: limits.maxFields, actual: shape.fields } },
    );
  }
  return document;
}

/**
 * Counts tokens, fragment spreads and bracket nesting in one pass; throws past a bound (or at a
 * lexical error).
 */
function scanTokens(source: string, limits: QueryGuardLimits): void {
  const maxNesting = Math.max(limits.maxDepth, MAX_INTROSPECTION_DEPTH) + BRACKET_SLACK;
  const lexer = new Lexer(new Source(source));
  let tokens = 0;
  let nesting = 0;
  let spreads = 0;
  let afterSpread = false;
  for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
    // `...Name` spreads a fragment; `... on Type`, `... @dir` and `... {` are inline fragments.
    if (
      afterSpread &&
      token.kind === TokenKind.NAME &&
      token.value !== 'on' &&
      ++spreads > limits.maxFragmentSpreads
    ) {
      throw new LarderError(
        'LARDER_ERR_LIMIT_FIELDS',
        `the query spreads fragments more than ${limits.maxFragmentSpreads} times; the limit is ${limits.maxFragmentSpreads}`,
        { details: { limit: limits.maxFragmentSpreads, unit: 'fragment spreads' } },
      );
    }
    afterSpread = token.kind === TokenKind.SPREAD;
    if (++tokens > limits.maxQueryTokens) {
      throw new LarderError(
        'LARDER_ERR_LIMIT_QUERY_SIZE',
        `the query has more than ${limits.maxQueryTokens} tokens; the limit is ${limits.maxQueryTokens}`,
        { details: { limit: limits.maxQueryTokens, unit: 'tokens' } },
      );
    }
    const kind = token.kind;
    if (kind === TokenKind.BRACE_L || kind === TokenKind.PAREN_L || kind === TokenKind.BRACKET_L) {
      if (++nesting > maxNesting) {
        throw new LarderError(
          'LARDER_ERR_LIMIT_DEPTH',
          `the query nests brackets more than ${maxNesting} levels deep`,
          { details: { limit: maxNesting, unit: 'brackets' } },
        );
      }
    } else if (kind === TokenKind.BRACE_R || kind === TokenKind.PAREN_R || kind === TokenKind.BRACKET_R) {
      nesting--;
    }
  }
}

/**
 * The checks of `QueryGuard`, then graphql's validation against `schema` with `rules`: what a
 * query must pass before it is registered as a persisted query. Throws a LarderError (a syntax or
 * validation error is LARDER_ERR_QUERY_INVALID with graphql's first message).
 */
export function checkQueryForSchema(
  source: string,
  schema: GraphQLSchema,
  rules: readonly ValidationRule[],
  limits: QueryGuardLimits,
): void {
  let document: DocumentNode;
  try {
    document = checkQueryText(source, limits);
  } catch (err) {
    if (err instanceof GraphQLError) throw new LarderError('LARDER_ERR_QUERY_INVALID', err.message);
    throw err;
  }
  const [first, ...more] = validate(schema, document, [...specifiedRules, ...rules]);
  if (first === undefined) return;
  if (isLarderError(first.originalError)) throw first.originalError;
  throw new LarderError('LARDER_ERR_QUERY_INVALID', first.message, {
    details: more.length > 0 ? { moreErrors: more.length } : undefined,
  });
}
