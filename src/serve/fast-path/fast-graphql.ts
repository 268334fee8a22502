import fp from 'fastify-plugin';
import type { GraphQLSchema, ValidationRule } from 'graphql';
import type { GraphQLBody } from '../graphql-body.ts';
import { joinedIdOf } from '../join-resolvers.ts';
import type { ServeLimits } from '../limits.ts';
import type { FastPathOutcome } from '../metrics.ts';
import { checkRequestCost, requestCost } from '../request-cost.ts';
import type { RequestLoader } from '../request-loader.ts';
import { compileQuery, type CompiledQuery } from './compile-query.ts';
import { answerQuery } from './answer-query.ts';

/**
 * The fast path of `POST /graphql`. Most recommendation traffic is a handful of query texts
 * (persisted or not) reading entities, their features, rows and joins. For those, executing
 * GraphQL per request (resolvers, promises per field, a result tree, then `JSON.stringify` of the
 * whole answer) costs more than the reads. Such a query is compiled once into a `CompiledQuery`, and
 * each request answers from it: the same loader reads, with the answer written from JSON text
 * kept per row and per hot entity.
 *
 * It runs as a `preHandler` after auth, the size limit and persisted-query resolution, applies
 * the same validation rules (depth) and the same request-cost limits, and answers only when the
 * answer is the one GraphQL would give. Anything else — a query it does not cover, invalid
 * variables, a limit exceeded, any error while reading or writing — goes on to the full executor
 * (Mercurius), which answers as it always did, errors included. So the fast path never changes
 * an answer; it only skips work (test/serve/fast-path.test.ts compares both paths).
 *
 * Off with `LARDER_SERVE_FAST_PATH=0` or `createServer(..., {fastPath: false})`.
 */
export interface FastAnswererOptions {
  /** The schema in force (it follows registry reloads). */
  readonly schema: () => GraphQLSchema;
  readonly limits: ServeLimits;
  /** Validation rules beyond GraphQL's own (the depth limit), as the full executor applies them. */
  readonly rules: readonly ValidationRule[];
  /** Compiled queries kept per schema, by query text and operation name. */
  readonly maxQueries: number;
  /** Told what happened to each request that reached the fast path (for `/metrics`). */
  readonly onOutcome?: (outcome: FastPathOutcome) => void;
}

export interface FastPathOptions {
  /** The answerer (`fastAnswerer`), shared with `POST /v1/features`. */
  readonly answer: FastAnswer;
  /** A request's loader, as the full executor's context gets it. */
  readonly newLoader: () => RequestLoader;
}

/**
 * The fast path as a `preHandler` hook, after persisted-query resolution and the query-size
 * limit. It leaves its state on `request.larder`: the metrics hook reads its loader, and after a
 * failed read the full executor reports that failure instead of reading again.
 */
export const fastPathPlugin = fp<FastPathOptions>(
  async (app, options) => {
    const { answer } = options;
    app.addHook('preHandler', (request, reply, done) => {
      if (request.method !== 'POST' || request.routeOptions.url !== '/graphql') return done();
      const body = request.body as GraphQLBody | null;
      if (body === null || typeof body !== 'object' || typeof body.query !== 'string') return done();
      const name = body.operationName;
      if (name !== undefined && name !== null && typeof name !== 'string') return done();
      const raw = body.variables ?? {};
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return done();
      const answering = answer(
        body.query,
        name ?? undefined,
        raw as Record<string, unknown>,
        options.newLoader,
      );
      if (answering === undefined) return done();
      request.larder = { loader: answering.loader, operationName: answering.operationName };
      answering.json.then(
        (json) => {
          void reply.header('content-type', 'application/json; charset=utf-8').send(json);
        },
        (err: unknown) => {
          request.log.debug({ err }, 'graphql fast path: handing the request to the full executor');
          done();
        },
      );
    });
  },
  {
    name: 'larder-fast-path',
    dependencies: ['larder-request-state', 'larder-persisted-queries', 'larder-limits'],
  },
);

/**
 * Answers a query through the fast path: undefined when it does not cover the query, or would
 * hand it over (variables GraphQL refuses, a limit exceeded: the full executor reports those);
 * else the answer's JSON, `{"data":...}`, as bytes, which rejects when the full executor must answer
 * after all (a read failed, a value GraphQL would refuse). `POST /graphql` and `POST
 * /v1/features` share one.
 */
export type FastAnswer = (
  query: string,
  operationName: string | undefined,
  variables: Readonly<Record<string, unknown>>,
  newLoader: () => RequestLoader,
) => FastAnswering | undefined;

export interface FastAnswering {
  /** The answer's UTF-8 bytes. */
  readonly json: Promise<Buffer>;
  readonly operationName: string | undefined;
  /** The loader that read for it (the metrics read its counts; a failed read is on it). */
  readonly loader: RequestLoader;
}

/** The fast path's answerer: its compiled queries, limits and outcome counts. */
export function fastAnswerer(options: FastAnswererOptions): FastAnswer {
  const compiledQueries = new CompiledQueries(options.maxQueries);
  const outcome = options.onOutcome ?? ((): void => {});
  return (query, operationName, raw, newLoader) => {
    const schema = options.schema();
    const compiled = compiledQueries.get(schema, query, operationName, () =>
      compileQuery(schema, query, operationName, options.rules, joinedIdOf),
    );
    if (compiled === undefined) {
      outcome('not_covered');
      return undefined;
    }
    const variables = compiled.coerceVariables(raw);
    if (variables === undefined) {
      outcome('handed_over');
      return undefined;
    }
    try {
      checkRequestCost(requestCost(schema, compiled.document, operationName), variables, options.limits);
    } catch {
      outcome('handed_over'); // the full executor reports the limit
      return undefined;
    }
    const loader = newLoader();
    const json = answerQuery(compiled, variables, loader).then(
      (text) => {
        outcome('answered');
        return text;
      },
      (err: unknown) => {
        outcome('handed_over');
        throw err;
      },
    );
    return { json, operationName: operationName ?? compiled.operationName, loader };
  };
}

/** Compiled queries (and "not covered" answers) per schema, bounded; the oldest query goes first. */
class CompiledQueries {
  readonly #max: number;
  readonly #bySchema = new WeakMap<GraphQLSchema, Map<string, Map<string, CompiledQuery | null>>>();

  constructor(max: number) {
    this.#max = max;
  }

  get(
    schema: GraphQLSchema,
    query: string,
    operationName: string | undefined,
    compile: () => CompiledQuery | undefined,
  ): CompiledQuery | undefined {
    let byQuery = this.#bySchema.get(schema);
    if (byQuery === undefined) this.#bySchema.set(schema, (byQuery = new Map()));
    let byOperation = byQuery.get(query);
    if (byOperation === undefined) {
      if (byQuery.size >= this.#max) byQuery.delete(byQuery.keys().next().value as string);
      byQuery.set(query, (byOperation = new Map()));
    }
    const key = operationName ?? '';
    let compiled = byOperation.get(key);
    if (compiled === undefined) {
      compiled = compile() ?? null;
      byOperation.set(key, compiled);
    }
    return compiled ?? undefined;
  }
}
