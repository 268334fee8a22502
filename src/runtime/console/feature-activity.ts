import { groupOf } from '../../cache/cache-policy.ts';
import type { RegistryHolder } from '../../registry/registry-holder.ts';
import type { FeatureActivity } from '../../serve/admin/admin-sources.ts';
import type { Series } from '../../serve/admin/admin-types.ts';
import type { StoreWrite } from '../../store/online-store.ts';
import type { HistoryClock } from './history-clock.ts';
import { TickRing } from './tick-ring.ts';

/**
 * Freshness per feature, for the console: when this process last wrote each feature, and how many
 * writes per second it applied over the last hour. Fed with every batch the ingestor writes (HTTP
 * pushes, broker consumers, dead-letter replays); batch jobs write from their own threads and are
 * shown on their job pages instead. A ring exists only for features that were written.
 */
export class WriteActivity implements FeatureActivity {
  readonly #last = new Map<string, number>();
  readonly #rings = new Map<string, TickRing>();

  constructor(
    readonly registry: Pick<RegistryHolder, 'current'>,
    readonly clock: HistoryClock,
  ) {}

  /** Counts one durable batch of writes, now. */
  record(writes: readonly StoreWrite[]): void {
    const now = this.clock.now();
    const tick = this.clock.tick(now);
    const registry = this.registry.current;
    // Consecutive writes of one batch are mostly of one feature: look each key's group up once.
    let lastPk = '';
    let lastKey: string | undefined;
    for (const write of writes) {
      if (write.pk !== lastPk) {
        lastPk = write.pk;
        const def = groupOf(registry, write.pk);
        lastKey = def === undefined ? undefined : `${def.entity}.${def.name}`;
      }
      if (lastKey === undefined) continue;
      this.#last.set(lastKey, now);
      let ring = this.#rings.get(lastKey);
      if (ring === undefined) this.#rings.set(lastKey, (ring = new TickRing(this.clock.size)));
      ring.add(tick, 1);
    }
  }

  lastEventAt(entity: string, feature: string): number | null {
    return this.#last.get(`${entity}.${feature}`) ?? null;
  }

  eventsPerSec(entity: string, feature: string): Series {
    const { from, to, t } = this.clock.window();
    const ring = this.#rings.get(`${entity}.${feature}`);
    const perSec = 1000 / this.clock.sampleMs;
    const values = ring === undefined ? t.map(() => 0) : ring.read(from, to, 0).map((v) => (v ?? 0) * perSec);
    return { t, columns: { events: values } };
  }
}
