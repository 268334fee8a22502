import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { RegistryHolder } from '../registry/registry-holder.ts';
import type { Registry } from '../registry/types.ts';
import { buildServingSchema, type ServingSchema } from './graphql-schema.ts';

/**
 * Keeps the served GraphQL schema in step with the registry. On every registry change the new
 * schema is generated first, then swapped in with one assignment (`replaceSchema`, which also
 * empties Mercurius's parse/validation/JIT caches, so no query compiled against the old schema is
 * reused). Resolvers close over their own registry, so a request already executing finishes on the
 * schema it started on. If generation fails, the old schema stays in force and the error is logged.
 */
export class SchemaSwapper {
  readonly #app: FastifyInstance;
  readonly #logger: Logger;
  #serving: ServingSchema;
  readonly #unsubscribe: () => void;

  readonly #onSwapped: ((serving: ServingSchema) => void) | undefined;

  /** `onSwapped` runs after each successful swap (the on-demand sources follow the registry). */
  constructor(
    app: FastifyInstance,
    registry: RegistryHolder,
    initial: ServingSchema,
    logger: Logger,
    onSwapped?: (serving: ServingSchema) => void,
  ) {
    this.#app = app;
    this.#onSwapped = onSwapped;
    this.#logger = logger;
    this.#serving = initial;
    this.#unsubscribe = registry.onChange((next) => this.#apply(next));
  }

  /** The schema in force. */
  get serving(): ServingSchema {
    return this.#serving;
  }

  stop(): void {
    this.#unsubscribe();
  }

  #apply(next: Registry): void {
    // RegistryHolder calls listeners synchronously inside `replace`: never throw back into it.
    try {
      const started = performance.now();
      const serving = buildServingSchema(next);
      this.#app.graphql.replaceSchema(serving.schema);
      const previous = this.#serving.registryVersion;
      this.#serving = serving;
      this.#onSwapped?.(serving);
      this.#logger.info(
        { registryVersion: next.version, previous, ms: Math.round(performance.now() - started) },
        'graphql schema replaced',
      );
    } catch (err) {
      this.#logger.error(
        { err, registryVersion: next.version, kept: this.#serving.registryVersion },
        'registry change could not be served; the previous schema stays in force',
      );
    }
  }
}
