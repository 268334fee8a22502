import { GraphQLError } from './graphql-runtime.ts';
import type {
  GraphQLError as GraphQLErrorType,
  ASTVisitor,
  OperationDefinitionNode,
  ValidationContext,
  ValidationRule,
} from 'graphql';
import { ERROR_CATALOG, LarderError, type ErrorCode } from '../errors.ts';
import { DocumentShape, type OperationShape } from './document-shape.ts';

/**
 * Bounds on what one request may ask for. Every refusal carries a stable code:
 * LARDER_ERR_LIMIT_DEPTH, _FIELDS, _IDS, _ROWS, _QUERY_SIZE, and LARDER_ERR_REQUEST_TOO_LARGE for
 * bodies.
 */
export interface ServeLimits {
  /** Deepest field nesting of a query (`user { recent { article { title } } }` is 4). */
  readonly maxDepth: number;
  /** Most ids in one batch root field (`flea_articles(ids: [...])`) or one REST request. */
  readonly maxIdsPerQuery: number;
  /** Most action rows one request can return (upper bound computed before anything is read). */
  readonly maxRowsPerRequest: number;
  /**
   * Most fields one operation selects, counting a fragment's fields at every place it is spread
   * (aliases are fields). Bounds validation (graphql's overlapping-fields check compares fields
   * pairwise) and what a few lines of fragments can expand to.
   */
  readonly maxFields: number;
  /** Most fragment spreads (`...Name`) in a query text. */
  readonly maxFragmentSpreads: number;
  /** Longest query text, in bytes (UTF-8). */
  readonly maxQueryBytes: number;
  /** Most lexical tokens in a query text (names, punctuation, values), counted before parsing. */
  readonly maxQueryTokens: number;
  /** Largest request body, in bytes. */
  readonly maxBodyBytes: number;
  /** Most events in one HTTP push request (`POST /v1/streams/...`). */
  readonly maxEventsPerPush: number;
  /** Most persisted queries the store keeps (`POST /v1/queries`). */
  readonly maxPersistedQueries: number;
  /** Most bytes of persisted query text the store keeps. */
  readonly maxPersistedQueryBytes: number;
}

export const DEFAULT_SERVE_LIMITS: ServeLimits = {
  maxDepth: 10,
  maxFields: 500,
  maxFragmentSpreads: 100,
  maxIdsPerQuery: 1_000,
  maxRowsPerRequest: 50_000,
  maxQueryBytes: 32 * 1024,
  maxQueryTokens: 5_000,
  maxBodyBytes: 1024 * 1024,
  maxEventsPerPush: 10_000,
  maxPersistedQueries: 1_000,
  maxPersistedQueryBytes: 8 * 1024 * 1024,
};

/** Introspection (`__schema`, `__type`) is nested by nature; it gets its own, fixed bound. */
export const MAX_INTROSPECTION_DEPTH = 16;

const ENV_NAMES: Readonly<Record<keyof ServeLimits, string>> = {
  maxDepth: 'LARDER_MAX_DEPTH',
  maxFields: 'LARDER_MAX_FIELDS',
  maxFragmentSpreads: 'LARDER_MAX_FRAGMENT_SPREADS',
  maxIdsPerQuery: 'LARDER_MAX_IDS',
  maxRowsPerRequest: 'LARDER_MAX_ROWS',
  maxQueryBytes: 'LARDER_MAX_QUERY_BYTES',
  maxQueryTokens: 'LARDER_MAX_QUERY_TOKENS',
  maxBodyBytes: 'LARDER_MAX_BODY_BYTES',
  maxEventsPerPush: 'LARDER_MAX_PUSH_EVENTS',
  maxPersistedQueries: 'LARDER_MAX_PERSISTED_QUERIES',
  maxPersistedQueryBytes: 'LARDER_MAX_PERSISTED_QUERY_BYTES',
};

/**
 * Limits from the environment (`LARDER_MAX_DEPTH`, `LARDER_MAX_FIELDS`,
 * `LARDER_MAX_FRAGMENT_SPREADS`, `LARDER_MAX_IDS`,
 * `LARDER_MAX_ROWS`, `LARDER_MAX_QUERY_BYTES`, `LARDER_MAX_QUERY_TOKENS`, `LARDER_MAX_BODY_BYTES`,
 * `LARDER_MAX_PUSH_EVENTS`, `LARDER_MAX_PERSISTED_QUERIES`, `LARDER_MAX_PERSISTED_QUERY_BYTES`),
 * over the defaults, under `overrides`.
 * Throws LARDER_ERR_CONFIG for a value that is not a positive integer.
 */
export function serveLimitsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<ServeLimits> = {},
): ServeLimits {
  const out: Record<string, number> = { ...DEFAULT_SERVE_LIMITS };
  for (const [key, name] of Object.entries(ENV_NAMES)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new LarderError('LARDER_ERR_CONFIG', `${name} must be a positive integer, got "${raw}"`, {
        details: { variable: name },
      });
    }
    out[key] = value;
  }
  return { ...(out as unknown as ServeLimits), ...overrides };
}

/** Refuses a query text longer than `maxQueryBytes`, before it is parsed. */
export function checkQuerySize(source: string, limits: Pick<ServeLimits, 'maxQueryBytes'>): void {
  // Cheap first test: a string's UTF-8 length is at most 3 bytes per UTF-16 unit.
  if (source.length * 3 <= limits.maxQueryBytes) return;
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > limits.maxQueryBytes) {
    throw new LarderError(
      'LARDER_ERR_LIMIT_QUERY_SIZE',
      `the query is ${bytes} bytes; the limit is ${limits.maxQueryBytes}`,
      {
        details: { limit: limits.maxQueryBytes, actual: bytes },
      },
    );
  }
}

/**
 * A GraphQL error whose original error is a LarderError, so the error formatter serves its stable
 * code, hint and details (`extensions: {code, hint, ...}`) and its status.
 */
export function larderGraphQLError(
  code: ErrorCode,
  message: string,
  details: Record<string, unknown> = {},
  nodes?: GraphQLErrorType['nodes'],
): GraphQLErrorType {
  const original = new LarderError(code, message, { details });
  return new GraphQLError(message, {
    nodes: nodes ?? undefined,
    originalError: original,
    extensions: { code, hint: ERROR_CATALOG[code].hint, ...details },
  });
}

/**
 * A validation rule refusing operations nested deeper than `maxDepth`. It runs once per query text
 * (validation results are cached with the parsed document), so it costs nothing on repeat queries;
 * its measure is linear in the document (document-shape.ts). Queries sent to `/graphql` are
 * measured before they are parsed for execution (query-guard.ts); this rule covers the rest
 * (REST requests, the fast path's own validation).
 */
export function depthLimitRule(maxDepth: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const shape = new DocumentShape(context.getDocument());
    return {
      OperationDefinition(node: OperationDefinitionNode) {
        const error = depthError(shape.operation(node), maxDepth, [node]);
        if (error !== undefined) context.reportError(error);
        return false;
      },
    };
  };
}

/** The depth error for a measured operation, if it is too deep. */
export function depthError(
  measured: Pick<OperationShape, 'depth' | 'introspection'>,
  maxDepth: number,
  nodes?: GraphQLErrorType['nodes'],
): GraphQLErrorType | undefined {
  const refused = checkDepth(measured, maxDepth);
  return refused === undefined
    ? undefined
    : larderGraphQLError(refused.code, refused.message, refused.details, nodes);
}

/** A LARDER_ERR_LIMIT_DEPTH for a measured operation that is too deep, else undefined. */
export function checkDepth(
  measured: Pick<OperationShape, 'depth' | 'introspection'>,
  maxDepth: number,
): LarderError | undefined {
  if (measured.depth > maxDepth) {
    return new LarderError(
      'LARDER_ERR_LIMIT_DEPTH',
      `the query is nested ${measured.depth} levels deep; the limit is ${maxDepth}`,
      { details: { limit: maxDepth, actual: measured.depth } },
    );
  }
  if (measured.introspection > MAX_INTROSPECTION_DEPTH) {
    return new LarderError(
      'LARDER_ERR_LIMIT_DEPTH',
      `the introspection query is nested ${measured.introspection} levels deep; the limit is ${MAX_INTROSPECTION_DEPTH}`,
      { details: { limit: MAX_INTROSPECTION_DEPTH, actual: measured.introspection } },
    );
  }
  return undefined;
}
