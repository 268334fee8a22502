import type { GraphQLField, GraphQLNamedType, GraphQLObjectType, GraphQLSchema } from 'graphql';
import { LarderError } from '../../errors.ts';
import { formatFieldType } from '../../registry/field-type.ts';
import { readSpecExcerpt } from '../../registry/spec-excerpt.ts';
import type { FeatureDef, IngestionDef, Registry } from '../../registry/types.ts';
import { getNamedType, isLeafType, isNonNullType, isObjectType, printType } from '../graphql-runtime.ts';
import type { FeatureActivity } from './admin-sources.ts';
import type { FeatureDetail, FeatureSource, Series } from './admin-types.ts';
import { summarise } from './feature-catalog.ts';

export interface DetailContext {
  readonly registry: Registry;
  readonly schema: GraphQLSchema;
  readonly activity: FeatureActivity | undefined;
  /** `http://host:port` as the caller reached this server, for the curl command. */
  readonly origin: string;
  readonly auth: boolean;
}

const NO_SERIES: Series = { t: [], columns: {} };

/** Everything the feature page shows about `entity.feature`; LARDER_ERR_UNKNOWN_FEATURE when absent. */
export async function featureDetail(
  ctx: DetailContext,
  entity: string,
  name: string,
): Promise<FeatureDetail> {
  const { registry } = ctx;
  const def = registry.featuresByEntity.get(entity)?.get(name);
  if (def === undefined) {
    throw new LarderError('LARDER_ERR_UNKNOWN_FEATURE', `no feature ${entity}.${name} in the registry`, {
      details: { entity, feature: name },
    });
  }
  const ingestions = [...registry.ingestions.values()].filter(
    (i) => i.entity === entity && i.feature === name,
  );
  const excerpt = await readSpecExcerpt(registry.dir, def.pos);
  const lastEventAt = ctx.activity?.lastEventAt(entity, name) ?? null;
  const field = entityType(ctx.schema, entity)?.getFields()[name];
  return {
    summary: {
      ...summarise(
        def,
        ingestions.map((i) => i.name),
      ),
      lastEventAt,
    },
    at: def.pos,
    specText: excerpt?.text ?? null,
    specFirstLine: excerpt?.firstLine ?? def.pos.line,
    graphqlTypes: field === undefined ? '' : typesText(ctx.schema, entity, field),
    sources: sourcesOf(registry, def, ingestions),
    maxCount: def.maxCount,
    ttlMs: def.ttlMs ?? null,
    cache:
      def.cache === undefined
        ? null
        : {
            levels: def.cache.levels,
            ttlMs: def.cache.ttlMs,
            softTtlMs: def.cache.softTtlMs,
            negativeTtlMs: def.cache.negativeTtlMs,
            write: def.cache.write,
          },
    joins: def.joins,
    freshness: { lastEventAt, eventsPerSec: ctx.activity?.eventsPerSec(entity, name) ?? NO_SERIES },
    query: readyQuery(ctx, entity, def, field),
  };
}

function sourcesOf(
  registry: Registry,
  def: FeatureDef,
  ingestions: readonly IngestionDef[],
): FeatureSource[] {
  const sources: FeatureSource[] = def.events.map((e) => {
    const conditions = e.filter.map((f) => `${f.name} ${f.optype} ${JSON.stringify(f.values)}`);
    const fields = e.fields.map((f) => `${f.path} → ${f.name}: ${formatFieldType(f.type)}`);
    return {
      kind: 'stream',
      name: [e.streamName, e.topic, e.subTopic].filter((p) => p !== undefined).join('/'),
      via: registry.streams.get(e.streamName)?.source ?? 'unknown',
      detail: [e.op === 'remove' ? 'removes members' : '', ...fields, ...conditions.map((c) => `if ${c}`)]
        .filter((p) => p !== '')
        .join('; '),
      at: e.pos,
    };
  });
  for (const i of ingestions) {
    sources.push({
      kind: 'ingestion',
      name: i.name,
      via: i.source.format,
      detail: `${i.source.path}${i.schedule === undefined ? '' : `, schedule ${i.schedule}`}${
        i.dependsOn.length === 0 ? '' : `, after ${i.dependsOn.join(', ')}`
      }`,
      at: i.pos,
    });
  }
  return sources;
}

function entityType(schema: GraphQLSchema, entity: string): GraphQLObjectType | undefined {
  const type = schema.getQueryType()?.getFields()[entity]?.type;
  const named = type === undefined ? undefined : getNamedType(type);
  return named !== undefined && isObjectType(named) ? named : undefined;
}

/** The field's signature, then the SDL of the object types it returns (rows, map entries). */
function typesText(schema: GraphQLSchema, entity: string, field: GraphQLField<unknown, unknown>): string {
  const owner = entityType(schema, entity)?.name ?? entity;
  const args = field.args.map((a) => `${a.name}: ${a.type.toString()}`).join(', ');
  const lines = [
    `# on type ${owner}`,
    `${field.name}${args === '' ? '' : `(${args})`}: ${field.type.toString()}`,
  ];
  const named: GraphQLNamedType = getNamedType(field.type);
  if (isObjectType(named)) lines.push('', printType(named));
  return lines.join('\n');
}

/** A selection of every leaf field of `type` that needs no argument (joins and nested rows left out). */
function leafSelection(type: GraphQLNamedType): string {
  if (!isObjectType(type)) return '';
  const leaves = Object.values(type.getFields())
    .filter((f) => isLeafType(getNamedType(f.type)) && !f.args.some((a) => isNonNullType(a.type)))
    .map((f) => f.name);
  return leaves.length === 0 ? '' : ` { ${leaves.join(' ')} }`;
}

function readyQuery(
  ctx: DetailContext,
  entity: string,
  def: FeatureDef,
  field: GraphQLField<unknown, unknown> | undefined,
): FeatureDetail['query'] {
  const args = def.featureType === 'action' ? `(input: { count: ${Math.min(10, def.maxCount)} })` : '';
  const selection = field === undefined ? '' : leafSelection(getNamedType(field.type));
  const op = `Feature_${entity}_${def.name}`.replace(/[^A-Za-z0-9_]/g, '_');
  const graphql = [
    `query ${op}($id: ID!) {`,
    `  ${entity}(id: $id) {`,
    `    ${def.name}${args}${selection}`,
    '  }',
    '}',
  ].join('\n');
  const variables = JSON.stringify({ id: '1' });
  const body = JSON.stringify({ query: graphql.replace(/\s+/g, ' '), variables: { id: '1' } });
  const curl = [
    `curl -s ${ctx.origin}/graphql`,
    `-H 'content-type: application/json'`,
    ...(ctx.auth ? [`-H "authorization: Bearer $API_KEY"`] : []),
    `-d '${body.replace(/'/g, `'\\''`)}'`,
  ].join(' \\\n  ');
  return { graphql, variables, curl };
}
