import { afterEach, describe, expect, it } from 'vitest';
import type { Registry } from '../../src/registry/types.ts';
import { marketplaceRegistry, seedMarketplace, user } from './marketplace-registry.ts';
import { entity, feature, registry } from '../support/registry-builder.ts';
import { capturingLogger, startServeFixture, staticWrite, type ServeFixture } from './serve-fixture.ts';
import { waitUntil } from '../support/wait-until.ts';

let fx: ServeFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

/** v1 with `region_id` removed and a new `nickname` feature. */
function nextRegistry(version: string): Registry {
  const v1 = marketplaceRegistry();
  const kept = v1.features.filter((f) => f.name !== 'region_id');
  return registry({
    entities: [...v1.entities.values()],
    features: [...kept, feature('user', 'nickname', { fields: { nickname: 'string' } })],
    version,
  });
}

describe('schema swap on registry change', () => {
  it('serves a new feature and refuses a removed one, without restart, JIT cache included', async () => {
    const f = (fx = await startServeFixture(marketplaceRegistry({ version: 'v1' })));
    await seedMarketplace(f, Date.now());
    await f.store.write([staticWrite(user, '1', 'nickname', 'single', { op: 'set', value: 'kim' })]);
    const app = f.app;

    // Warm both caches: a valid query JIT-compiled, an invalid one remembered as invalid.
    for (let i = 0; i < 3; i++) {
      expect((await f.gql(`{ user(id: 1) { region_id } }`)).body).toEqual({
        data: { user: { region_id: 4_000_000_000 } },
      });
      const early = await f.gql(`{ user(id: 1) { nickname } }`);
      expect(early.body.errors?.[0]?.extensions?.['code']).toBe('LARDER_ERR_QUERY_INVALID');
    }

    f.registry.replace(nextRegistry('v2'));

    expect(f.app).toBe(app);
    expect((await f.gql(`{ _registryVersion }`)).body).toEqual({ data: { _registryVersion: 'v2' } });
    for (let i = 0; i < 3; i++) {
      expect((await f.gql(`{ user(id: 1) { nickname os } }`)).body).toEqual({
        data: { user: { nickname: 'kim', os: 'ios' } },
      });
      const removed = await f.gql(`{ user(id: 1) { region_id } }`);
      expect(removed.status).toBe(400);
      expect(removed.body.errors?.[0]?.message).toMatch(/region_id/);
      expect(removed.body.errors?.[0]?.extensions?.['code']).toBe('LARDER_ERR_QUERY_INVALID');
    }
  });

  it('lets a request in flight finish on the schema it started on', async () => {
    const f = (fx = await startServeFixture(marketplaceRegistry({ version: 'v1' })));
    await seedMarketplace(f, Date.now());
    let release!: () => void;
    f.store.gate = new Promise<void>((resolve) => (release = resolve));

    const inFlight = f.gql(`{ _registryVersion user(id: 1) { region_id } }`);
    // Wait until the request is inside its store read, i.e. executing on v1.
    await waitUntil(() => f.store.staticCalls.length > 0, 10_000, 'the request to reach its store read', 5);
    f.registry.replace(nextRegistry('v2'));
    f.store.gate = undefined;
    release();

    expect((await inFlight).body).toEqual({
      data: { _registryVersion: 'v1', user: { region_id: 4_000_000_000 } },
    });
    expect((await f.gql(`{ user(id: 1) { region_id } }`)).body.errors?.[0]?.extensions?.['code']).toBe(
      'LARDER_ERR_QUERY_INVALID',
    );
  });

  it('refuses a registry the schema cannot take: nothing switches, not even ingestion', async () => {
    const f = (fx = await startServeFixture(marketplaceRegistry({ version: 'v1' })));
    await seedMarketplace(f, Date.now());
    const followers: string[] = [];
    f.registry.onChange((next) => followers.push(next.version));
    // `items` is both an entity and the plural of `item`: no valid schema.
    expect(() =>
      f.registry.replace(
        registry({ entities: [entity('item'), entity('items')], features: [], version: 'broken' }),
      ),
    ).toThrow(/items/);

    // Nothing switched: the registry in force, what follows it (ingestion, metrics), the schema.
    expect(f.registry.current.version).toBe('v1');
    expect(followers).toEqual([]);
    expect((await f.gql(`{ _registryVersion user(id: 1) { os } }`)).body).toEqual({
      data: { _registryVersion: 'v1', user: { os: 'ios' } },
    });
    const ready = await f.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toEqual({ status: 'ready', registryVersion: 'v1' });

    // A later good registry still applies, everywhere.
    f.registry.replace(nextRegistry('v3'));
    expect(followers).toEqual(['v3']);
    expect((await f.gql(`{ _registryVersion }`)).body).toEqual({ data: { _registryVersion: 'v3' } });
  });

  it('stops following the registry once the server is closed', async () => {
    const log = capturingLogger();
    const f = await startServeFixture(marketplaceRegistry({ version: 'v1' }), {}, log.logger);
    f.registry.replace(nextRegistry('v2'));
    const swaps = (): number => log.lines.filter((l) => l['msg'] === 'graphql schema replaced').length;
    expect(swaps()).toBe(1);
    await f.close();
    f.registry.replace(nextRegistry('v3'));
    expect(swaps()).toBe(1);
    expect(log.lines.some((l) => l['registryVersion'] === 'v3')).toBe(false);
  });
});
