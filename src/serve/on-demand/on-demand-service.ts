import { CircuitBreaker, type BreakerState } from './circuit-breaker.ts';
import { HttpUpstream, type HttpUpstreamOptions, type UpstreamOutcome } from './http-upstream.ts';
import type { OnDemandDef } from '../../registry/types.ts';
import { checkValueType } from '../../registry/check-value-type.ts';

/** How one upstream call ended, from the serving side: `ok`, or why the fallback was served. */
export type OnDemandOutcome = UpstreamOutcome | 'breaker_open' | 'bad_type';

/** Hooks for metrics and logs; every method is optional. */
export interface OnDemandObserver {
  /** One upstream call (or one refused call) for `ids.length` ids, lasting `seconds`. */
  call?(feature: string, outcome: OnDemandOutcome, seconds: number, ids: number): void;
  breakerState?(feature: string, state: BreakerState): void;
}

/** `entity.feature`, the name used in metrics. */
export function onDemandKey(def: Pick<OnDemandDef, 'entity' | 'name'>): string {
  return `${def.entity}.${def.name}`;
}

interface Source {
  readonly def: OnDemandDef;
  readonly breaker: CircuitBreaker;
}

/**
 * Fetches on-demand features. Never fails: every id gets either the upstream's value or the
 * feature's fallback (on timeout, HTTP or network error, a body of the wrong type, or while the
 * breaker is open). One breaker per feature. Sources are rebuilt with `update()` when the
 * registry changes; a breaker survives a reload when its feature's definition is unchanged.
 */
export interface OnDemandServiceOptions {
  readonly observer?: OnDemandObserver;
  readonly http?: HttpUpstreamOptions;
  /** The breakers' clock, ms; tests pass a manual one. Default `Date.now`. */
  readonly now?: () => number;
}

export class OnDemandService {
  readonly #upstream: HttpUpstream;
  readonly #observer: OnDemandObserver;
  readonly #now: () => number;
  #sources = new Map<string, Source>();

  constructor(defs: readonly OnDemandDef[], options: OnDemandServiceOptions = {}) {
    this.#upstream = new HttpUpstream(options.http);
    this.#observer = options.observer ?? {};
    this.#now = options.now ?? Date.now;
    this.update(defs);
  }

  /** Swaps in a new set of definitions (registry reload). */
  update(defs: readonly OnDemandDef[]): void {
    const next = new Map<string, Source>();
    for (const def of defs) {
      const key = onDemandKey(def);
      const previous = this.#sources.get(key);
      if (previous !== undefined && JSON.stringify(previous.def) === JSON.stringify(def)) {
        next.set(key, previous);
        continue;
      }
      const breaker = new CircuitBreaker({
        failures: def.breaker.failures,
        resetMs: def.breaker.resetMs,
        onStateChange: (state) => this.#observer.breakerState?.(key, state),
        now: this.#now,
      });
      this.#observer.breakerState?.(key, 'closed');
      next.set(key, { def, breaker });
    }
    this.#sources = next;
  }

  /** The definition of `entity.feature`, if it is an on-demand feature. */
  def(entity: string, feature: string): OnDemandDef | undefined {
    return this.#sources.get(`${entity}.${feature}`)?.def;
  }

  defs(): OnDemandDef[] {
    return [...this.#sources.values()].map((s) => s.def);
  }

  breakerState(entity: string, feature: string): BreakerState | undefined {
    return this.#sources.get(`${entity}.${feature}`)?.breaker.state;
  }

  /** Values for `ids` (canonical entity ids), in the same order; fallbacks where the upstream failed. */
  async fetch(def: OnDemandDef, ids: readonly string[]): Promise<unknown[]> {
    const source = this.#sources.get(onDemandKey(def)) ?? { def, breaker: this.#detachedBreaker(def) };
    if (def.batch === undefined) return Promise.all(ids.map((id) => this.#fetchOne(source, id)));
    const out: unknown[] = [];
    const chunks: Promise<unknown[]>[] = [];
    for (let i = 0; i < ids.length; i += def.batch.maxIds)
      chunks.push(this.#fetchBatch(source, ids.slice(i, i + def.batch.maxIds)));
    for (const values of await Promise.all(chunks)) out.push(...values);
    return out;
  }

  async close(): Promise<void> {
    await this.#upstream.close();
  }

  async #fetchOne(source: Source, id: string): Promise<unknown> {
    const { def } = source;
    const result = await this.#call(source, [id], (body) =>
      checkValueType(def.type, body) ? [body] : undefined,
    );
    return result?.[0] ?? def.fallback;
  }

  async #fetchBatch(source: Source, ids: readonly string[]): Promise<unknown[]> {
    const { def } = source;
    const values = await this.#call(source, ids, (body) => pickBatch(def, ids, body));
    return values ?? ids.map(() => def.fallback);
  }

  /**
   * One upstream call for `ids`, through the breaker. `extract` turns the JSON body into one value
   * per id (undefined: the body has the wrong shape or type). Resolves undefined when the fallback
   * must be served for all ids.
   */
  async #call(
    source: Source,
    ids: readonly string[],
    extract: (body: unknown) => unknown[] | undefined,
  ): Promise<unknown[] | undefined> {
    const { def, breaker } = source;
    const key = onDemandKey(def);
    if (!breaker.tryAcquire()) {
      this.#observer.call?.(key, 'breaker_open', 0, ids.length);
      return undefined;
    }
    const started = performance.now();
    const { url, body } = renderRequest(def, ids);
    const result = await this.#upstream.call(url, def.method, body, def.timeoutMs);
    let outcome: OnDemandOutcome = result.outcome;
    let values: unknown[] | undefined;
    if (result.outcome === 'ok') {
      values = extract(result.body);
      if (values === undefined) outcome = 'bad_type';
    }
    // A 404 is an answer ("no value for this id"), not a sick upstream.
    if (outcome === 'ok' || outcome === 'not_found') breaker.success();
    else breaker.failure();
    this.#observer.call?.(key, outcome, (performance.now() - started) / 1000, ids.length);
    return values;
  }

  #detachedBreaker(def: OnDemandDef): CircuitBreaker {
    return new CircuitBreaker({
      failures: def.breaker.failures,
      resetMs: def.breaker.resetMs,
      now: this.#now,
    });
  }
}

/** The URL (and POST body) of a call: `{id}`/`{ids}` replaced, ids URL-encoded and comma-joined. */
export function renderRequest(
  def: OnDemandDef,
  ids: readonly string[],
): { url: URL; body: string | undefined } {
  const encoded = ids.map((id) => encodeURIComponent(id));
  const url = new URL(def.url.replaceAll('{ids}', encoded.join(',')).replaceAll('{id}', encoded[0] ?? ''));
  if (def.method === 'GET') return { url, body: undefined };
  const typed = ids.map((id) => (def.idType === 'int' && Number.isSafeInteger(Number(id)) ? Number(id) : id));
  return { url, body: JSON.stringify(def.batch === undefined ? { id: typed[0] } : { ids: typed }) };
}

/**
 * A batched answer: either an object keyed by id, or an array in the order of the ids. An id the
 * answer leaves out gets the fallback; a value of the wrong type fails the whole call.
 */
function pickBatch(def: OnDemandDef, ids: readonly string[], body: unknown): unknown[] | undefined {
  let values: unknown[];
  if (Array.isArray(body)) {
    if (body.length !== ids.length) return undefined;
    values = body;
  } else if (typeof body === 'object' && body !== null) {
    const byId = body as Record<string, unknown>;
    values = ids.map((id) => (Object.hasOwn(byId, id) ? byId[id] : def.fallback));
  } else {
    return undefined;
  }
  for (const value of values) if (!checkValueType(def.type, value)) return undefined;
  return values.map((v) => (v === undefined ? def.fallback : v));
}
