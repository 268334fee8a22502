import type { Logger } from 'pino';
import type { BreakerState } from '../../net/circuit-breaker.ts';
import type { EnricherDef } from '../../registry/types.ts';
import { createCommandHandler } from './command-handler.ts';
import type { EnrichmentHandler } from './handler.ts';
import { createHttpHandler } from './http-handler.ts';
import type { ModulePool } from './module-pool.ts';

export interface HandlerContext {
  /** Runs the module handlers of the process. */
  readonly pool: ModulePool;
  readonly logger?: Logger;
  readonly onBreakerChange?: (enricher: string, state: BreakerState) => void;
}

/** The handler an enricher's `handler:` block names. */
export function createHandler(def: EnricherDef, context: HandlerContext): EnrichmentHandler {
  const { handler } = def;
  switch (handler.kind) {
    case 'module':
      return context.pool.handler(handler.path);
    case 'http':
      return createHttpHandler({
        url: handler.url,
        breaker: handler.breaker,
        ...(context.onBreakerChange === undefined
          ? {}
          : { onBreakerChange: (state: BreakerState) => context.onBreakerChange?.(def.name, state) }),
      });
    case 'command':
      return createCommandHandler({
        enricher: def.name,
        argv: handler.argv,
        cwd: handler.cwd,
        ...(context.logger === undefined ? {} : { logger: context.logger }),
      });
  }
}

/** The per-call timeout: an http handler's own `timeout` when it has one, else the enricher's. */
export function callTimeoutMs(def: EnricherDef): number {
  return def.handler.kind === 'http' ? def.handler.timeoutMs : def.timeoutMs;
}
