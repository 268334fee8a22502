import { didYouMean } from './did-you-mean.ts';
import type { LocatedField } from './compile-event.ts';
import { formatFieldType } from './field-type.ts';
import type { SpecReader } from './node-reader.ts';
import { formatPos, type SpecEntry, type SpecNode } from './spec-node.ts';
import type { JoinDef, SourcePos } from './types.ts';

export const JOIN_KEYS = ['field', 'entity', 'as'] as const;

/** The default name of a joined object: `article_id` → `article`, otherwise the entity's name. */
function defaultAs(field: string, entity: string): string {
  return field.endsWith('_id') && field.length > 3 ? field.slice(0, -3) : entity;
}

/**
 * Compiles `join:` (one map or a list of them). A join turns a row field holding another entity's
 * id into that entity's object on the row, so it applies to action features only, and the field
 * must be an int or string id.
 */
export function compileJoins(
  entry: SpecEntry | undefined,
  what: string,
  context: {
    readonly action: boolean;
    readonly fields: ReadonlyMap<string, LocatedField>;
    readonly entities: ReadonlySet<string>;
  },
  reader: SpecReader,
): JoinDef[] {
  const node = entry?.value;
  if (entry === undefined || node === undefined || (node.kind === 'scalar' && node.value === null)) return [];
  if (!context.action) {
    reader.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what} applies to action features only: it resolves an id on each row`,
      entry.keyPos,
      'Remove `join`, or make the feature `featureType: action`.',
    );
    return [];
  }
  const items: readonly SpecNode[] = node.kind === 'seq' ? node.items : [node];
  const joins: JoinDef[] = [];
  const names = new Map<string, SourcePos>();
  items.forEach((item, i) => {
    const itemWhat = node.kind === 'seq' ? `${what}[${i}]` : what;
    const join = compileJoin(item, itemWhat, context, reader);
    if (join === undefined) return;
    const first = names.get(join.def.as);
    if (first !== undefined) {
      reader.issues.add(
        'LARDER_ERR_SPEC_DUPLICATE',
        `${itemWhat}.as "${join.def.as}" is used by another join at ${formatPos(first)}`,
        join.asPos,
        'Give each join its own `as`.',
      );
      return;
    }
    names.set(join.def.as, join.asPos);
    joins.push(join.def);
  });
  return joins;
}

function compileJoin(
  node: SpecNode,
  what: string,
  context: {
    readonly fields: ReadonlyMap<string, LocatedField>;
    readonly entities: ReadonlySet<string>;
  },
  reader: SpecReader,
): { def: JoinDef; asPos: SourcePos } | undefined {
  const map = reader.map(node, what);
  if (map === undefined) return undefined;
  const keys = reader.keys(map, JOIN_KEYS, what);
  const fieldNode = reader.required(keys.field, `${what}.field`, map.pos);
  const field = reader.string(fieldNode, `${what}.field`);
  const entityNode = reader.required(keys.entity, `${what}.entity`, map.pos);
  const entity = reader.string(entityNode, `${what}.entity`);
  const asText = reader.optionalString(keys.as, `${what}.as`);
  let ok = field !== undefined && entity !== undefined;

  if (field !== undefined && fieldNode !== undefined) {
    const located = context.fields.get(field);
    if (located === undefined) {
      ok = false;
      reader.issues.add(
        'LARDER_ERR_SPEC_REFERENCE',
        `${what}.field "${field}" is not a field of this feature's rows`,
        fieldNode.pos,
        `Name one of the output fields: ${[...context.fields.keys()].join(', ')}.${didYouMean(field, context.fields.keys())}`,
      );
    } else if (located.def.type.list || !['int', 'string'].includes(located.def.type.scalar)) {
      ok = false;
      reader.issues.add(
        'LARDER_ERR_SPEC_INVALID_VALUE',
        `${what}.field "${field}" has type ${formatFieldType(located.def.type)}; a joined id must be int or string`,
        fieldNode.pos,
      );
    }
  }
  if (entity !== undefined && entityNode !== undefined && !context.entities.has(entity)) {
    ok = false;
    reader.issues.add(
      'LARDER_ERR_SPEC_REFERENCE',
      `${what}.entity "${entity}" is not an entity of this registry`,
      entityNode.pos,
      `Declare it under \`entities:\` or give it features.${didYouMean(entity, context.entities)}`,
    );
  }
  if (!ok || field === undefined || entity === undefined) return undefined;

  const as = asText ?? defaultAs(field, entity);
  const asPos = keys.as?.value.pos ?? map.pos;
  if (!reader.name(as, `${what}.as`, asPos)) return undefined;
  if (context.fields.has(as) || as === 'timestamp') {
    reader.issues.add(
      'LARDER_ERR_SPEC_NAME',
      `${what}.as "${as}" clashes with a field of the row of the same name`,
      asPos,
      `Set \`as:\` to a name that is not a row field, for example ${as}_ref.`,
    );
    return undefined;
  }
  return { def: { field, entity, as }, asPos };
}
