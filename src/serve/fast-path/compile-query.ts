import type {
  DocumentNode,
  FieldNode,
  GraphQLField,
  GraphQLObjectType,
  GraphQLSchema,
  OperationDefinitionNode,
  ValueNode,
  ValidationRule,
} from 'graphql';
import { DEFAULT_ACTION_COUNT } from '../../registry/action-defaults.ts';
import type { EntityDef, FeatureDef } from '../../registry/types.ts';
import type { ActionRow } from '../../store/online-store.ts';
import type { LarderFieldInfo } from '../graphql-schema.ts';
import {
  Kind,
  getArgumentValues,
  getOperationAST,
  getNamedType,
  isObjectType,
  parse,
  specifiedRules,
  validate,
} from '../graphql-runtime.ts';
import type { ServedJoin } from '../join-resolvers.ts';
import { plainSelection } from './plain-selection.ts';
import { flat } from './flat-text.ts';
import { variableCoercion, type CoerceVariables } from './coerce-variables.ts';
import { valueJson, type ValueJson } from './value-json.ts';

/**
 * A query compiled for the fast path (`fast-graphql.ts`): which entities, static features,
 * action features and joins it reads, and how to write each part of the answer as JSON text.
 * Compiled once per query text, operation and schema; a query the fast path does not cover
 * compiles to undefined and is executed by GraphQL as before.
 *
 * Covered: root entity fields (`user(id)`, `users(ids)`), `_registryVersion`, `__typename`, ids,
 * static features (any type), action features with `input` (count, lastNSec, filter), row
 * fields, `timestamp`, and joins whose selection has ids and static features. Not covered (the
 * full executor answers): fragments, directives, repeated response keys, on-demand features,
 * action features under a join, introspection, mutations, invalid queries.
 */
export interface CompiledQuery {
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  /** The operation's own name, for the metrics label. */
  readonly operationName: string | undefined;
  readonly roots: readonly CompiledRoot[];
  readonly coerceVariables: CoerceVariables;
}

/** A field's arguments for one request's variables (fixed when the query has none in them). */
export type ArgsOf = (variables: Readonly<Record<string, unknown>>) => Record<string, unknown>;

export type CompiledRoot =
  | { readonly kind: 'text'; readonly prefix: string; readonly text: string }
  | {
      readonly kind: 'single' | 'batch';
      readonly prefix: string;
      readonly args: ArgsOf;
      readonly entity: CompiledEntity;
    };

/** An entity's selection: the static features it loads and its fields in answer order. */
export interface CompiledEntity {
  readonly entity: EntityDef;
  /** Static features to load; for a join with none selected, every static (for the existence check). */
  readonly statics: readonly string[];
  readonly fields: readonly CompiledEntityField[];
  readonly actions: readonly CompiledAction[];
}

export type CompiledEntityField =
  | { readonly kind: 'text'; readonly prefix: string; readonly text: string }
  | { readonly kind: 'value'; readonly prefix: string; readonly name: string; readonly write: ValueJson }
  | { readonly kind: 'action'; readonly prefix: string; readonly index: number };

export interface CompiledAction {
  readonly feature: FeatureDef;
  readonly defaultCount: number;
  readonly args: ArgsOf;
  readonly joins: readonly CompiledRowJoin[];
  /** The row's own part of the answer: the text around its joined entities, and their ids. */
  readonly rowParts: (row: ActionRow) => RowParts;
}

/**
 * A row's text is `texts[0] + join 0 + texts[1] + ... + texts[joins]`; `ids[j]` is the row's id
 * for join j (undefined: the row holds none).
 */
export interface RowParts {
  readonly texts: readonly string[];
  readonly ids: readonly (string | undefined)[];
}

export interface CompiledRowJoin {
  readonly join: ServedJoin;
  readonly entity: CompiledEntity;
}

/** Compiles `query` for `schema`; undefined when the fast path does not cover it. */
export function compileQuery(
  schema: GraphQLSchema,
  query: string,
  operationName: string | undefined,
  rules: readonly ValidationRule[],
  joinedId: (row: ActionRow, join: ServedJoin) => string | undefined,
): CompiledQuery | undefined {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch {
    return undefined;
  }
  if (validate(schema, document, [...specifiedRules, ...rules]).length > 0) return undefined;
  const operation = getOperationAST(document, operationName);
  const queryType = schema.getQueryType();
  if (
    operation === null ||
    operation === undefined ||
    operation.operation !== 'query' ||
    queryType === undefined ||
    queryType === null
  )
    return undefined;
  if (operation.directives !== undefined && operation.directives.length > 0) return undefined;
  const fields = plainSelection(queryType, operation.selectionSet);
  if (fields === undefined) return undefined;
  const roots: CompiledRoot[] = [];
  for (const [i, f] of fields.entries()) {
    const prefix = `${i === 0 ? '{' : ','}${JSON.stringify(f.key)}:`;
    if (f.name === '__typename') {
      roots.push({ kind: 'text', prefix, text: JSON.stringify(queryType.name) });
      continue;
    }
    const field = queryType.getFields()[f.name]!;
    const info = larderInfo(field);
    if (f.name === '_registryVersion' && info === undefined && field.resolve !== undefined) {
      // A constant of the schema: the registry version it was generated from.
      roots.push({
        kind: 'text',
        prefix,
        text: JSON.stringify(field.resolve(undefined, {}, undefined, undefined as never)),
      });
      continue;
    }
    if (info?.root === undefined || info.entity === undefined) return undefined;
    // Ranked candidates (rank-by.ts) are the full executor's.
    if (f.node.arguments?.some((a) => a.name.value === 'rankBy') === true) return undefined;
    const type = objectTypeOf(field);
    if (type === undefined || f.node.selectionSet === undefined) return undefined;
    const entity = compileEntity(info.entity, type, f.node.selectionSet, false, joinedId);
    const args = argsOf(field, f.node);
    if (entity === undefined || args === undefined) return undefined;
    roots.push({ kind: info.root, prefix, args, entity });
  }
  return {
    document,
    operation,
    operationName: operation.name?.value,
    roots,
    coerceVariables: variableCoercion(schema, operation.variableDefinitions ?? []),
  };
}

function compileEntity(
  entity: EntityDef,
  type: GraphQLObjectType,
  selection: NonNullable<FieldNode['selectionSet']>,
  joined: boolean,
  joinedId: (row: ActionRow, join: ServedJoin) => string | undefined,
): CompiledEntity | undefined {
  const fields = plainSelection(type, selection);
  if (fields === undefined) return undefined;
  const out: CompiledEntityField[] = [];
  const statics: string[] = [];
  const actions: CompiledAction[] = [];
  const allStatics: string[] = [];
  for (const field of Object.values(type.getFields())) {
    const feature = larderInfo(field)?.static;
    if (feature !== undefined) allStatics.push(feature.name);
  }
  for (const [i, f] of fields.entries()) {
    const prefix = `${i === 0 ? '{' : ','}${JSON.stringify(f.key)}:`;
    if (f.name === '__typename') {
      out.push({ kind: 'text', prefix, text: JSON.stringify(type.name) });
      continue;
    }
    const field = type.getFields()[f.name]!;
    const info = larderInfo(field);
    if (f.name === 'id' && info === undefined && field.resolve === undefined) {
      const write = valueJson(field.type, undefined);
      if (write === undefined) return undefined;
      out.push({ kind: 'value', prefix, name: 'id', write });
    } else if (info?.static !== undefined) {
      const write = valueJson(field.type, f.node.selectionSet);
      if (write === undefined) return undefined;
      if (!statics.includes(info.static.name)) statics.push(info.static.name);
      out.push({ kind: 'value', prefix, name: info.static.name, write });
    } else if (info?.action !== undefined && !joined) {
      const action = compileAction(info, field, f.node, joinedId);
      if (action === undefined) return undefined;
      out.push({ kind: 'action', prefix, index: actions.length });
      actions.push(action);
    } else {
      return undefined; // on-demand features, actions under a join
    }
  }
  // A join reads every static when none is selected: its existence is checked on them.
  const loaded = joined && statics.length === 0 ? allStatics : statics;
  return { entity, statics: loaded, fields: out, actions };
}

function compileAction(
  info: LarderFieldInfo,
  field: GraphQLField<unknown, unknown>,
  node: FieldNode,
  joinedId: (row: ActionRow, join: ServedJoin) => string | undefined,
): CompiledAction | undefined {
  const feature = info.action?.feature;
  const rowType = objectTypeOf(field);
  const args = argsOf(field, node);
  if (feature === undefined || rowType === undefined || args === undefined || node.selectionSet === undefined)
    return undefined;
  const fields = plainSelection(rowType, node.selectionSet);
  if (fields === undefined) return undefined;
  // The row's text is built in segments split at each join: [text, join, text, join, ..., text].
  type Part =
    | { readonly kind: 'text'; readonly prefix: string; readonly text: string }
    | { readonly kind: 'field'; readonly prefix: string; readonly name: string; readonly write: ValueJson }
    | { readonly kind: 'ts'; readonly prefix: string; readonly write: ValueJson }
    | { readonly kind: 'join'; readonly prefix: string };
  const parts: Part[] = [];
  const joins: CompiledRowJoin[] = [];
  for (const [i, f] of fields.entries()) {
    const prefix = `${i === 0 ? '{' : ','}${JSON.stringify(f.key)}:`;
    if (f.name === '__typename') {
      parts.push({ kind: 'text', prefix, text: JSON.stringify(rowType.name) });
      continue;
    }
    const rowField = rowType.getFields()[f.name]!;
    const join = larderInfo(rowField)?.join;
    if (join !== undefined) {
      const target = objectTypeOf(rowField);
      if (target === undefined || f.node.selectionSet === undefined) return undefined;
      const entity = compileEntity(join.target, target, f.node.selectionSet, true, joinedId);
      if (entity === undefined) return undefined;
      joins.push({ join, entity });
      parts.push({ kind: 'join', prefix });
      continue;
    }
    if (rowField.resolve !== undefined) return undefined;
    const write = valueJson(rowField.type, f.node.selectionSet);
    if (write === undefined) return undefined;
    parts.push(
      f.name === 'timestamp' ? { kind: 'ts', prefix, write } : { kind: 'field', prefix, name: f.name, write },
    );
  }
  const servedJoins = joins.map((j) => j.join);
  const rowParts = (row: ActionRow): RowParts => {
    const texts: string[] = [];
    let text = '';
    for (const part of parts) {
      if (part.kind === 'text') text += part.prefix + part.text;
      else if (part.kind === 'field') text += part.prefix + part.write(row.values[part.name]);
      else if (part.kind === 'ts') text += part.prefix + part.write(row.ts);
      else {
        texts.push(text + part.prefix);
        text = '';
      }
    }
    texts.push(`${text}}`);
    return { texts: texts.map(flat), ids: servedJoins.map((join) => joinedId(row, join)) };
  };
  return {
    feature,
    defaultCount: info.defaultCount ?? DEFAULT_ACTION_COUNT,
    args,
    joins,
    rowParts,
  };
}

function larderInfo(field: GraphQLField<unknown, unknown>): LarderFieldInfo | undefined {
  return (field.extensions as { larder?: LarderFieldInfo } | undefined)?.larder;
}

/** The object type a root, action or join field returns (through non-null and list wrappers). */
function objectTypeOf(field: GraphQLField<unknown, unknown>): GraphQLObjectType | undefined {
  const type = getNamedType(field.type);
  return isObjectType(type) ? type : undefined;
}

/** `getArgumentValues` per request, or once when the field's arguments hold no variables. */
function argsOf(field: GraphQLField<unknown, unknown>, node: FieldNode): ArgsOf | undefined {
  const variable = (node.arguments ?? []).some((a) => holdsVariable(a.value));
  if (variable) return (variables) => getArgumentValues(field, node, variables);
  try {
    const fixed = getArgumentValues(field, node, {});
    return () => fixed;
  } catch {
    return undefined;
  }
}

function holdsVariable(value: ValueNode): boolean {
  if (value.kind === Kind.VARIABLE) return true;
  if (value.kind === Kind.LIST) return value.values.some(holdsVariable);
  if (value.kind === Kind.OBJECT) return value.fields.some((f) => holdsVariable(f.value));
  return false;
}
