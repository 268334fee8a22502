import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ExecutionResult, GraphQLField, GraphQLSchema } from 'graphql';
import { ERROR_CATALOG, isLarderError, LarderError, type ErrorCode } from '../../errors.ts';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import type { Registry } from '../../registry/types.ts';
import { getNamedType, isObjectType } from '../graphql-runtime.ts';
import type { RequestLoader } from '../request-loader.ts';
import type { NewRequestState } from './graphql.ts';
import type { LarderRequestState } from './request-state.ts';

/**
 * `POST /v1/features`: the same reads as GraphQL for clients that do not speak it.
 *
 * Request:
 * ```json
 * {"entity": "user", "ids": ["1", "2"],
 *  "features": [{"name": "os"}, {"name": "recent_view_articles", "count": 50, "lastNSec": 604800}]}
 * ```
 * Response (200):
 * ```json
 * {"entity": "user", "results": [
 *   {"id": "1", "features": {"os": "ios", "recent_view_articles": [{"article_id": 7, "timestamp": 1700000000123}]}},
 *   {"id": "2", "features": {"os": null, "recent_view_articles": []}}]}
 * ```
 * Results follow the order of `ids`. Action rows carry every row field plus `timestamp` (joined
 * objects are a GraphQL feature). The request is translated into one GraphQL query, answered by
 * the compiled fast path when it covers it and else executed by the same executor, so it has the
 * same read batching, limits and error codes; errors answer with the REST error body `{code,
 * message, hint}` and the code's status.
 */
export interface RestFeaturesRequest {
  readonly entity: string;
  readonly ids: readonly (string | number)[];
  readonly features: readonly {
    readonly name: string;
    readonly count?: number;
    readonly lastNSec?: number;
  }[];
}

export interface RestFeaturesPluginOptions {
  readonly registry: Pick<RegistryHolder, 'current'>;
  /** The request's state and GraphQL context, as `/graphql` builds it. */
  readonly newRequestState: NewRequestState;
  /**
   * The compiled fast path, when on: the translated query is answered by it first (the same
   * answer; anything it would not answer goes to the executor as before).
   */
  readonly fast?: { readonly answer: QueryAnswer; readonly newLoader: () => RequestLoader };
}

/**
 * The fast path's answerer as this plugin uses it (`FastAnswer` in fast-path/fast-graphql.ts;
 * the serving core does not import the fast path, the server hands it in): undefined when it
 * would not answer, else the `{"data":...}` text, rejecting when the executor must answer.
 */
export type QueryAnswer = (
  query: string,
  operationName: string | undefined,
  variables: Readonly<Record<string, unknown>>,
  newLoader: () => RequestLoader,
) =>
  | {
      readonly json: Promise<Buffer>;
      readonly operationName: string | undefined;
      readonly loader: RequestLoader;
    }
  | undefined;

const bodySchema = {
  type: 'object',
  required: ['entity', 'ids', 'features'],
  additionalProperties: false,
  properties: {
    entity: { type: 'string', minLength: 1, maxLength: 200 },
    ids: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer' }] } },
    features: {
      type: 'array',
      minItems: 1,
      maxItems: 500,
      items: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200 },
          count: { type: 'integer' },
          lastNSec: { type: 'integer' },
        },
      },
    },
  },
} as const;

/** `POST /v1/features`, executed by the GraphQL plugin's executor (context, hooks, limits). */
export const restFeaturesPlugin = fp<RestFeaturesPluginOptions>(
  async (app, { registry, newRequestState, fast }) => {
    app.post(
      '/v1/features',
      { schema: { body: bodySchema }, config: { access: 'read' } },
      async (request, reply) => {
        const body = request.body as RestFeaturesRequest;
        const { query, variables, aliases } = translate(body, registry.current, app.graphql.schema);
        const reshape = (rows: readonly (Record<string, unknown> | null)[]) =>
          rows.map((row, i) => {
            const features: Record<string, unknown> = {};
            for (const [alias, name] of aliases) features[name] = row?.[alias] ?? null;
            return { id: String(body.ids[i]), features };
          });
        const answering = fast?.answer(query, 'Rest', variables, fast.newLoader);
        if (answering !== undefined) {
          request.larder = { loader: answering.loader, operationName: answering.operationName };
          const text = await answering.json.catch(() => undefined);
          const rows =
            text === undefined
              ? undefined
              : (
                  JSON.parse(text.toString('utf8')) as {
                    data: { r?: (Record<string, unknown> | null)[] | null };
                  }
                ).data.r;
          if (rows != null) return { entity: body.entity, results: reshape(rows) };
        }
        // After a failed fast-path read, the state's loader reports that failure without reading again.
        const state = newRequestState(request, undefined);
        request.larder = state;
        const result = await execute(app, query, state, variables);
        const firstError = result.errors?.[0] as
          { message?: string; extensions?: Record<string, unknown> } | undefined;
        const rows = (result.data as { r?: (Record<string, unknown> | null)[] } | null | undefined)?.r;
        // All or nothing: any error (a count too large for one feature, say) fails the request with
        // the first error's code and status, as GraphQL would report it.
        if (rows == null || firstError !== undefined) {
          const ext = firstError?.extensions ?? {};
          const code =
            typeof ext['code'] === 'string' && ext['code'] in ERROR_CATALOG
              ? (ext['code'] as ErrorCode)
              : 'LARDER_ERR_INTERNAL';
          const message =
            code === 'LARDER_ERR_INTERNAL' ? 'Internal error' : (firstError?.message ?? 'Internal error');
          return reply
            .code(ERROR_CATALOG[code].status)
            .send({ ...ext, code, message, hint: ERROR_CATALOG[code].hint });
        }
        void reply.code(200);
        return { entity: body.entity, results: reshape(rows) };
      },
    );
  },
  { name: 'larder-rest-features', dependencies: ['larder-request-state', 'larder-graphql'] },
);

/**
 * Runs `query` as `/graphql` would. The query text is generated from a body already bounded in
 * size and feature count.
 */
async function execute(
  app: FastifyInstance,
  query: string,
  state: LarderRequestState,
  variables: Record<string, unknown>,
): Promise<ExecutionResult> {
  try {
    return await app.graphql(query, state, variables, 'Rest');
  } catch (err) {
    throw unwrapGraphQLFailure(err);
  }
}

/** `app.graphql` throws request-level failures (validation, a hook's LarderError) wrapped. */
function unwrapGraphQLFailure(err: unknown): unknown {
  if (isLarderError(err)) return err;
  const inner = (err as { errors?: unknown[] } | null)?.errors?.[0] as
    { originalError?: unknown; message?: string } | undefined;
  if (isLarderError(inner?.originalError)) return inner.originalError;
  if (inner !== undefined)
    return new LarderError('LARDER_ERR_QUERY_INVALID', inner.message ?? 'invalid query');
  return err;
}

/** The GraphQL query (and variables) equivalent to a REST request; throws for unknown names. */
export function translate(
  body: RestFeaturesRequest,
  registry: Registry,
  schema: GraphQLSchema,
): { query: string; variables: Record<string, unknown>; aliases: [string, string][] } {
  const entity = registry.entities.get(body.entity);
  if (entity === undefined) {
    throw new LarderError('LARDER_ERR_UNKNOWN_ENTITY', `unknown entity "${body.entity}"`, {
      details: { entity: body.entity },
    });
  }
  const root = schema.getQueryType()?.getFields()[entity.plural];
  const entityType = root === undefined ? undefined : getNamedType(root.type);
  if (!isObjectType(entityType)) {
    throw new LarderError('LARDER_ERR_UNKNOWN_ENTITY', `entity "${body.entity}" is not served`, {
      details: { entity: body.entity },
    });
  }
  const fields = entityType.getFields();
  const variables: Record<string, unknown> = { ids: body.ids.map(String) };
  const params: string[] = ['$ids: [ID!]!'];
  const selections: string[] = [];
  const aliases: [string, string][] = [];
  body.features.forEach((f, i) => {
    const field = f.name === 'id' ? undefined : fields[f.name];
    if (field === undefined) {
      throw new LarderError(
        'LARDER_ERR_UNKNOWN_FEATURE',
        `entity "${body.entity}" has no feature "${f.name}"`,
        {
          details: { entity: body.entity, feature: f.name },
        },
      );
    }
    const alias = `f${i}`;
    aliases.push([alias, f.name]);
    const takesInput = field.args.some((a) => a.name === 'input');
    let args = '';
    if (takesInput) {
      const input: Record<string, number> = {};
      if (f.count !== undefined) input['count'] = f.count;
      if (f.lastNSec !== undefined) input['lastNSec'] = f.lastNSec;
      variables[`i${i}`] = input;
      params.push(`$i${i}: ActionFeatureInput`);
      args = `(input: $i${i})`;
    } else if (f.count !== undefined || f.lastNSec !== undefined) {
      throw new LarderError(
        'LARDER_ERR_BAD_ARGUMENT',
        `"${f.name}" is not an action feature; count and lastNSec do not apply`,
        {
          details: { feature: f.name },
        },
      );
    }
    selections.push(`${alias}: ${f.name}${args}${subSelection(field)}`);
  });
  return {
    query: `query Rest(${params.join(', ')}) { r: ${entity.plural}(ids: $ids) { ${selections.join(' ')} } }`,
    variables,
    aliases,
  };
}

/** Every plain field of an object value (a row or a multi-field static value); not joined entities. */
function subSelection(field: GraphQLField<unknown, unknown>): string {
  const obj = getNamedType(field.type);
  if (!isObjectType(obj)) return '';
  const names: string[] = [];
  for (const child of Object.values(obj.getFields())) {
    const childObj = getNamedType(child.type);
    if (isObjectType(childObj)) {
      // A joined entity (it has an id) is left out; a nested value object is included.
      if ('id' in childObj.getFields()) continue;
      names.push(`${child.name}${subSelection(child)}`);
    } else if (
      child.args.length === 0 ||
      child.args.every((a) => !('ofType' in a.type) || a.defaultValue !== undefined)
    ) {
      names.push(child.name);
    }
  }
  return ` { ${names.join(' ')} }`;
}
