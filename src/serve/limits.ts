import { GraphQLError, Kind } from './graphql-runtime.ts';
import type {
  DocumentNode,
  GraphQLError as GraphQLErrorType,
  ASTVisitor,
  FragmentDefinitionNode,
  OperationDefinitionNode,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
} from 'graphql';
import { ERROR_CATALOG, LarderError, type ErrorCode } from '../errors.ts';

/**
 * Bounds on what one request may ask for. Every refusal carries a stable code:
 * LARDER_ERR_LIMIT_DEPTH, _IDS, _ROWS, _QUERY_SIZE, and LARDER_ERR_REQUEST_TOO_LARGE for bodies.
 */
export interface ServeLimits {
  /** Deepest field nesting of a query (`user { recent { article { title } } }` is 4). */
  readonly maxDepth: number;
  /** Most ids in one batch root field (`flea_articles(ids: [...])`) or one REST request. */
  readonly maxIdsPerQuery: number;
  /** Most action rows one request can return (upper bound computed before anything is read). */
  readonly maxRowsPerRequest: number;
  /** Longest query text, in bytes (UTF-8). */
  readonly maxQueryBytes: number;
  /** Largest request body, in bytes. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_SERVE_LIMITS: ServeLimits = {
  maxDepth: 10,
  maxIdsPerQuery: 1_000,
  maxRowsPerRequest: 50_000,
  maxQueryBytes: 32 * 1024,
  maxBodyBytes: 1024 * 1024,
};

/** Introspection (`__schema`, `__type`) is nested by nature; it gets its own, fixed bound. */
export const MAX_INTROSPECTION_DEPTH = 16;

const ENV_NAMES: Readonly<Record<keyof ServeLimits, string>> = {
  maxDepth: 'LARDER_MAX_DEPTH',
  maxIdsPerQuery: 'LARDER_MAX_IDS',
  maxRowsPerRequest: 'LARDER_MAX_ROWS',
  maxQueryBytes: 'LARDER_MAX_QUERY_BYTES',
  maxBodyBytes: 'LARDER_MAX_BODY_BYTES',
};

/**
 * Limits from the environment (`LARDER_MAX_DEPTH`, `LARDER_MAX_IDS`, `LARDER_MAX_ROWS`,
 * `LARDER_MAX_QUERY_BYTES`, `LARDER_MAX_BODY_BYTES`), over the defaults, under `overrides`.
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
 * (validation results are cached with the parsed document), so it costs nothing on repeat queries.
 */
export function depthLimitRule(maxDepth: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node: OperationDefinitionNode) {
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const def of context.getDocument().definitions) {
        if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
      }
      const { depth, introspection } = measureDepth(node.selectionSet, fragments, new Set(), false);
      if (depth > maxDepth) {
        context.reportError(
          larderGraphQLError(
            'LARDER_ERR_LIMIT_DEPTH',
            `the query is nested ${depth} levels deep; the limit is ${maxDepth}`,
            { limit: maxDepth, actual: depth },
            [node],
          ),
        );
      } else if (introspection > MAX_INTROSPECTION_DEPTH) {
        context.reportError(
          larderGraphQLError(
            'LARDER_ERR_LIMIT_DEPTH',
            `the introspection query is nested ${introspection} levels deep; the limit is ${MAX_INTROSPECTION_DEPTH}`,
            { limit: MAX_INTROSPECTION_DEPTH, actual: introspection },
            [node],
          ),
        );
      }
      return false;
    },
  });
}

/** The depth of a document's deepest operation (ordinary fields, and introspection apart). */
export function documentDepth(document: DocumentNode): { depth: number; introspection: number } {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  let depth = 0;
  let introspection = 0;
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    const measured = measureDepth(def.selectionSet, fragments, new Set(), false);
    depth = Math.max(depth, measured.depth);
    introspection = Math.max(introspection, measured.introspection);
  }
  return { depth, introspection };
}

/**
 * The deepest path of ordinary fields, and separately the deepest path that passes through an
 * introspection field (`__schema`, `__type`, `__typename`), both counted from the root.
 */
function measureDepth(
  set: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  visiting: Set<string>,
  inIntrospection: boolean,
): { depth: number; introspection: number } {
  let depth = 0;
  let introspection = 0;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const intro = inIntrospection || selection.name.value.startsWith('__');
      const child =
        selection.selectionSet === undefined
          ? { depth: 0, introspection: 0 }
          : measureDepth(selection.selectionSet, fragments, visiting, intro);
      if (intro) introspection = Math.max(introspection, 1 + Math.max(child.depth, child.introspection));
      else {
        depth = Math.max(depth, 1 + child.depth);
        if (child.introspection > 0) introspection = Math.max(introspection, 1 + child.introspection);
      }
      continue;
    }
    let child: { depth: number; introspection: number };
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      child = measureDepth(selection.selectionSet, fragments, visiting, inIntrospection);
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      // An unknown or cyclic fragment is reported by graphql's own rules.
      if (fragment === undefined || visiting.has(name)) continue;
      visiting.add(name);
      child = measureDepth(fragment.selectionSet, fragments, visiting, inIntrospection);
      visiting.delete(name);
    }
    depth = Math.max(depth, child.depth);
    introspection = Math.max(introspection, child.introspection);
  }
  return { depth, introspection };
}
