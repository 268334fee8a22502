import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';

/** One difference between two GraphQL schemas: a type or a field (`Type.field`) added, removed or retyped. */
export interface SchemaChange {
  readonly change: 'added' | 'removed' | 'changed';
  /** `User`, `User.recent_views`, `User.recent_views(count)`, `Kind.VALUE`. */
  readonly path: string;
  /** The type (fields, arguments) or kind (types) before; absent when added. */
  readonly before?: string;
  readonly after?: string;
}

function kindOf(type: GraphQLNamedType): string {
  if (isObjectType(type)) return 'type';
  if (isInputObjectType(type)) return 'input';
  if (isEnumType(type)) return 'enum';
  if (isInterfaceType(type)) return 'interface';
  if (isUnionType(type)) return 'union';
  return 'scalar';
}

/** Members of a type by path: fields and their arguments with their types, enum values, union members. */
function members(type: GraphQLNamedType): Map<string, string> {
  const out = new Map<string, string>();
  if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
    for (const field of Object.values(type.getFields())) {
      out.set(`${type.name}.${field.name}`, String(field.type));
      for (const arg of 'args' in field ? field.args : [])
        out.set(`${type.name}.${field.name}(${arg.name})`, String(arg.type));
    }
  } else if (isEnumType(type)) {
    for (const value of type.getValues()) out.set(`${type.name}.${value.name}`, 'enum value');
  } else if (isUnionType(type)) {
    for (const member of type.getTypes()) out.set(`${type.name}|${member.name}`, 'member');
  }
  return out;
}

function userTypes(schema: GraphQLSchema): Map<string, GraphQLNamedType> {
  return new Map(Object.entries(schema.getTypeMap()).filter(([name]) => !name.startsWith('__')));
}

/**
 * The GraphQL schema diff, field by field: types added and removed, and within types present in
 * both, fields and arguments added, removed or retyped, sorted by path. A whole type added or
 * removed is one entry (its fields are not listed again).
 */
export function diffSchemas(before: GraphQLSchema | undefined, after: GraphQLSchema): SchemaChange[] {
  const a = before === undefined ? new Map<string, GraphQLNamedType>() : userTypes(before);
  const b = userTypes(after);
  const out: SchemaChange[] = [];
  for (const [name, type] of b) {
    const old = a.get(name);
    if (old === undefined) {
      out.push({ change: 'added', path: name, after: kindOf(type) });
      continue;
    }
    if (kindOf(old) !== kindOf(type)) {
      out.push({ change: 'changed', path: name, before: kindOf(old), after: kindOf(type) });
      continue;
    }
    const oldMembers = members(old);
    const newMembers = members(type);
    for (const [path, t] of newMembers) {
      const was = oldMembers.get(path);
      if (was === undefined) out.push({ change: 'added', path, after: t });
      else if (was !== t) out.push({ change: 'changed', path, before: was, after: t });
    }
    for (const [path, t] of oldMembers)
      if (!newMembers.has(path)) out.push({ change: 'removed', path, before: t });
  }
  for (const [name, type] of a)
    if (!b.has(name)) out.push({ change: 'removed', path: name, before: kindOf(type) });
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}
