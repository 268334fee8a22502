import type { OnDemandDef } from '../../registry/types.ts';
import type { OnDemandService } from './on-demand-service.ts';

interface Batch {
  readonly def: OnDemandDef;
  readonly ids: string[];
  readonly waiting: Map<string, { resolve: (value: unknown) => void }[]>;
}

const resolved = Promise.resolve();

/**
 * Per-request batching of on-demand reads: every id asked for one feature during one pass of
 * execution goes to the service together, so an upstream that takes `{ids}` gets one call (split
 * by maxBatch) instead of one per entity. Identical ids share one fetch.
 */
export class OnDemandLoader {
  readonly #service: OnDemandService;
  #batches = new Map<string, Batch>();
  #scheduled = false;

  constructor(service: OnDemandService) {
    this.#service = service;
  }

  load(def: OnDemandDef, id: string): Promise<unknown> {
    const key = `${def.entity}.${def.name}`;
    let batch = this.#batches.get(key);
    if (batch === undefined) {
      batch = { def, ids: [], waiting: new Map() };
      this.#batches.set(key, batch);
    }
    let waiters = batch.waiting.get(id);
    if (waiters === undefined) {
      waiters = [];
      batch.waiting.set(id, waiters);
      batch.ids.push(id);
    }
    const list = waiters;
    const promise = new Promise<unknown>((resolve) => list.push({ resolve }));
    if (!this.#scheduled) {
      this.#scheduled = true;
      void resolved.then(() => process.nextTick(this.#flush));
    }
    return promise;
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const batches = this.#batches;
    this.#batches = new Map();
    for (const batch of batches.values()) void this.#run(batch);
  };

  async #run(batch: Batch): Promise<void> {
    // fetch() never rejects: failures become the fallback.
    const values = await this.#service.fetch(batch.def, batch.ids);
    batch.ids.forEach((id, i) => {
      for (const waiter of batch.waiting.get(id) ?? []) waiter.resolve(values[i]);
    });
  }
}
