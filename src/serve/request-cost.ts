import type {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLField,
  GraphQLObjectType,
  GraphQLSchema,
  SelectionSetNode,
  ValueNode,
} from 'graphql';
import { LarderError } from '../errors.ts';
import { DEFAULT_ACTION_COUNT } from '../registry/action-defaults.ts';
import { Kind, getNamedType, isObjectType } from './graphql-runtime.ts';
import type { ServeLimits } from './limits.ts';

/**
 * The cost of a request, known before anything is read: how many ids each batch root field asks
 * for, and an upper bound on the action rows the whole request can return (rows of joined
 * entities' action features multiply by the rows they hang under).
 *
 * The cost is compiled once per parsed document (cached) and evaluated per request with its
 * variables, so the check costs a walk over the few list-shaped fields of the query. Both are
 * linear in the document, whatever its fragments expand to: a fragment is compiled once per type
 * into a group node shared by every place it is spread, and each node is evaluated once per request.
 */

/** A number taken from the query: a literal, or a variable (or a field of a variable). */
type Amount =
  | { readonly kind: 'const'; readonly value: number }
  | {
      readonly kind: 'var';
      readonly name: string;
      readonly path: string | undefined;
      readonly list: boolean;
      readonly fallback: number;
    };

interface CostNode {
  /** `ids`: a batch root field; `rows`: an action feature; `group`: a fragment's nodes (once). */
  readonly kind: 'ids' | 'rows' | 'group';
  readonly field: string;
  readonly amount: Amount;
  readonly children: readonly CostNode[];
}

const ONCE: Amount = { kind: 'const', value: 1 };

/** A fragment's compiled nodes, by fragment and the type it is spread in. */
type FragmentCosts = Map<string, CostNode | null>;

/** A request's cost as compiled from its document: the list-shaped fields, by nesting. */
export interface RequestCost {
  readonly roots: readonly CostNode[];
}

const ACTION_INPUT_TYPE = 'ActionFeatureInput';

const costs = new WeakMap<DocumentNode, Map<string, RequestCost>>();

/** The cost of `document`'s operation, compiled once per document and operation name. */
export function requestCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined | null,
): RequestCost {
  let byOperation = costs.get(document);
  if (byOperation === undefined) {
    byOperation = new Map();
    costs.set(document, byOperation);
  }
  const key = operationName ?? '';
  let cost = byOperation.get(key);
  if (cost === undefined) {
    cost = compileRequestCost(schema, document, operationName);
    byOperation.set(key, cost);
  }
  return cost;
}

function compileRequestCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined | null,
): RequestCost {
  const fragments = new Map<string, FragmentDefinitionNode>();
  let operation: SelectionSetNode | undefined;
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    else if (
      def.kind === Kind.OPERATION_DEFINITION &&
      (operationName == null || def.name?.value === operationName)
    ) {
      operation ??= def.selectionSet;
    }
  }
  const query = schema.getQueryType();
  if (operation === undefined || query == null) return { roots: [] };
  return { roots: walk(query, operation, fragments, new Map(), new Set()) };
}

/**
 * The generated schema has no interfaces or unions, so a fragment always applies to the type it is
 * spread in (graphql's validation refuses any other spread). A fragment spread inside itself adds
 * nothing (graphql's validation refuses it too).
 */
function walk(
  type: GraphQLObjectType,
  set: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  compiled: FragmentCosts,
  visiting: Set<string>,
): CostNode[] {
  const out: CostNode[] = [];
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const node = fieldNode(type, selection, fragments, compiled, visiting);
      if (node !== undefined) out.push(...node);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      out.push(...walk(type, selection.selectionSet, fragments, compiled, visiting));
    } else {
      const group = fragmentGroup(type, selection.name.value, fragments, compiled, visiting);
      if (group !== null) out.push(group);
    }
  }
  return out;
}

/** A fragment's cost nodes as one group node, compiled once per fragment and type; null: none. */
function fragmentGroup(
  type: GraphQLObjectType,
  name: string,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  compiled: FragmentCosts,
  visiting: Set<string>,
): CostNode | null {
  const key = `${type.name}:${name}`;
  const known = compiled.get(key);
  if (known !== undefined) return known;
  const fragment = fragments.get(name);
  if (fragment === undefined || visiting.has(name)) return null;
  visiting.add(name);
  const children = walk(type, fragment.selectionSet, fragments, compiled, visiting);
  visiting.delete(name);
  const group: CostNode | null =
    children.length === 0 ? null : { kind: 'group', field: name, amount: ONCE, children };
  compiled.set(key, group);
  return group;
}

/** The cost nodes under one field: itself when it is list-shaped, else its children passed up. */
function fieldNode(
  parent: GraphQLObjectType,
  node: FieldNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  compiled: FragmentCosts,
  visiting: Set<string>,
): CostNode[] | undefined {
  const field = parent.getFields()[node.name.value];
  if (field === undefined) return undefined;
  const named = getNamedType(field.type);
  const children =
    node.selectionSet !== undefined && isObjectType(named)
      ? walk(named, node.selectionSet, fragments, compiled, visiting)
      : [];
  const ids = field.args.find((a) => a.name === 'ids');
  if (ids !== undefined) return [{ kind: 'ids', field: node.name.value, amount: idsAmount(node), children }];
  if (field.args.some((a) => getNamedType(a.type).name === ACTION_INPUT_TYPE)) {
    return [
      { kind: 'rows', field: node.name.value, amount: countAmount(node, defaultCount(field)), children },
    ];
  }
  return children;
}

function defaultCount(field: GraphQLField<unknown, unknown>): number {
  const larder = field.extensions['larder'] as { defaultCount?: number } | undefined;
  return larder?.defaultCount ?? DEFAULT_ACTION_COUNT;
}

function argument(node: FieldNode, name: string): ValueNode | undefined {
  return node.arguments?.find((a) => a.name.value === name)?.value;
}

function idsAmount(node: FieldNode): Amount {
  const value = argument(node, 'ids');
  if (value === undefined) return { kind: 'const', value: 0 };
  if (value.kind === Kind.LIST) return { kind: 'const', value: value.values.length };
  if (value.kind === Kind.VARIABLE)
    return { kind: 'var', name: value.name.value, path: undefined, list: true, fallback: 0 };
  return { kind: 'const', value: 1 };
}

function countAmount(node: FieldNode, fallback: number): Amount {
  const input = argument(node, 'input');
  if (input === undefined || input.kind === Kind.NULL) return { kind: 'const', value: fallback };
  if (input.kind === Kind.VARIABLE)
    return { kind: 'var', name: input.name.value, path: 'count', list: false, fallback };
  if (input.kind !== Kind.OBJECT) return { kind: 'const', value: fallback };
  const count = input.fields.find((f) => f.name.value === 'count')?.value;
  if (count === undefined || count.kind === Kind.NULL) return { kind: 'const', value: fallback };
  if (count.kind === Kind.INT) return { kind: 'const', value: Number(count.value) };
  if (count.kind === Kind.VARIABLE)
    return { kind: 'var', name: count.name.value, path: undefined, list: false, fallback };
  return { kind: 'const', value: fallback };
}

function evaluate(amount: Amount, variables: Readonly<Record<string, unknown>> | null | undefined): number {
  if (amount.kind === 'const') return amount.value;
  let value: unknown = variables?.[amount.name];
  if (amount.path !== undefined)
    value =
      typeof value === 'object' && value !== null
        ? (value as Record<string, unknown>)[amount.path]
        : undefined;
  if (amount.list) return Array.isArray(value) ? value.length : value == null ? 0 : 1;
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, value) : amount.fallback;
}

/**
 * Evaluates the cost with the request's variables and refuses it when a batch field asks for more
 * than `maxIdsPerQuery` ids (LARDER_ERR_LIMIT_IDS) or the request could return more than
 * `maxRowsPerRequest` action rows (LARDER_ERR_LIMIT_ROWS). Returns the row bound.
 */
export function checkRequestCost(
  cost: RequestCost,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  limits: Pick<ServeLimits, 'maxIdsPerQuery' | 'maxRowsPerRequest'>,
): number {
  const rows = sumRows(cost.roots, variables, limits, new Map());
  if (rows > limits.maxRowsPerRequest) {
    throw new LarderError(
      'LARDER_ERR_LIMIT_ROWS',
      `the request could return up to ${rows} action rows; the limit is ${limits.maxRowsPerRequest}`,
      {
        details: { limit: limits.maxRowsPerRequest, actual: rows },
      },
    );
  }
  return rows;
}

/**
 * The rows `nodes` can return under one parent. A node's rows do not depend on where it hangs (its
 * parents multiply them), so each node is evaluated once per request (`memo`), however many places
 * share it.
 */
function sumRows(
  nodes: readonly CostNode[],
  variables: Readonly<Record<string, unknown>> | null | undefined,
  limits: Pick<ServeLimits, 'maxIdsPerQuery'>,
  memo: Map<CostNode, number>,
): number {
  let rows = 0;
  for (const node of nodes) {
    let own = memo.get(node);
    if (own === undefined) {
      own = nodeRows(node, variables, limits, memo);
      memo.set(node, own);
    }
    rows += own;
  }
  return rows;
}

function nodeRows(
  node: CostNode,
  variables: Readonly<Record<string, unknown>> | null | undefined,
  limits: Pick<ServeLimits, 'maxIdsPerQuery'>,
  memo: Map<CostNode, number>,
): number {
  const amount = evaluate(node.amount, variables);
  if (node.kind === 'ids' && amount > limits.maxIdsPerQuery) {
    throw new LarderError(
      'LARDER_ERR_LIMIT_IDS',
      `${node.field} asks for ${amount} ids; the limit is ${limits.maxIdsPerQuery}`,
      {
        details: { field: node.field, limit: limits.maxIdsPerQuery, actual: amount },
      },
    );
  }
  // Children are checked even under an amount of 0 (their ids limits hold regardless).
  const below = node.children.length === 0 ? 0 : sumRows(node.children, variables, limits, memo);
  const own = node.kind === 'rows' ? amount : 0;
  return amount === 0 ? own : own + amount * below;
}
