import type { Registry } from '../../src/registry/types.ts';
import { entity, feature, registry } from '../support/registry-builder.ts';
import { actionWrite, staticWrite, type ServeFixture } from './serve-fixture.ts';

/** A registry with one feature of every shape the schema generator handles. */
export const user = entity('user', { prefix: 'u:', idType: 'int' });
export const article = entity('flea_article', { prefix: 'c:flea:', idType: 'int', plural: 'flea_articles' });

export function marketplaceRegistry(extra: { version?: string } = {}): Registry {
  return registry({
    ...extra,
    entities: [user, article],
    features: [
      feature('user', 'os', { fields: { os: 'string' }, description: 'Operating system.' }),
      feature('user', 'region_id', { fields: { region_id: 'int' } }),
      feature('user', 'profile', { fields: { age: 'int', score: 'float', vip: 'bool' } }),
      feature('user', 'settings', { fields: { settings: 'json' } }),
      feature('user', 'lucky_numbers', { fields: { numbers: 'list<int>' } }),
      feature('user', 'notification_keywords', { containerType: 'set', fields: { keyword: 'string' } }),
      feature('user', 'addresses', { containerType: 'set', fields: { city: 'string', zip: 'string' } }),
      feature('user', 'category_affinity', {
        containerType: 'map',
        mapKey: 'category',
        fields: { category: 'string', weight: 'float' },
      }),
      feature('user', 'recent_view_articles', {
        featureType: 'action',
        fields: { article_id: 'int' },
        maxCount: 100,
      }),
      feature('user', 'recent_search_keywords', {
        featureType: 'action',
        fields: { keyword: 'string', result_count: 'int' },
        maxCount: 50,
      }),
      feature('flea_article', 'title', { fields: { title: 'string' } }),
      feature('flea_article', 'price', { fields: { price: 'int' } }),
    ],
  });
}

/** Age in seconds of view row i (0 = oldest of 40): 30 s past a whole minute, so windows are clear-cut. */
export function viewAgeSec(i: number): number {
  return (40 - i) * 60 - 30;
}

/**
 * Seeds user 1 with every feature, user 2 with a few, and articles 1..3.
 * View rows: 40, article ids 1000..1039, row i is `viewAgeSec(i)` seconds old.
 */
export async function seedMarketplace(fx: ServeFixture, now: number): Promise<void> {
  const s = staticWrite;
  await fx.store.write([
    s(user, '1', 'os', 'single', { op: 'set', value: 'ios' }),
    s(user, '1', 'region_id', 'single', { op: 'set', value: 4_000_000_000 }),
    s(user, '1', 'profile', 'single', { op: 'set', value: { age: 31, score: 0.75, vip: true } }),
    s(user, '1', 'settings', 'single', { op: 'set', value: { theme: 'dark', alerts: [1, 2] } }),
    s(user, '1', 'lucky_numbers', 'single', { op: 'set', value: [7, 13, 5_000_000_000] }),
    s(user, '1', 'notification_keywords', 'set', { op: 'add', value: 'bike' }, now - 2000),
    s(user, '1', 'notification_keywords', 'set', { op: 'add', value: 'desk' }, now - 1000),
    s(user, '1', 'addresses', 'set', { op: 'add', value: { city: 'Seoul', zip: '04524' } }, now - 1000),
    s(user, '1', 'category_affinity', 'map', { op: 'put', key: 'books', value: 0.5 }),
    s(user, '1', 'category_affinity', 'map', { op: 'put', key: 'bikes', value: 0.25 }),
    s(user, '2', 'os', 'single', { op: 'set', value: 'android' }),
    s(article, '1', 'title', 'single', { op: 'set', value: 'Desk lamp' }),
    s(article, '1', 'price', 'single', { op: 'set', value: 15000 }),
    s(article, '2', 'title', 'single', { op: 'set', value: 'Road bike' }),
    s(article, '2', 'price', 'single', { op: 'set', value: 320000 }),
    s(article, '3', 'title', 'single', { op: 'set', value: 'Chair' }),
    ...Array.from({ length: 40 }, (_, i) =>
      actionWrite(user, '1', 'recent_view_articles', now - viewAgeSec(i) * 1000, { article_id: 1000 + i }),
    ),
    actionWrite(user, '1', 'recent_search_keywords', now - 3000, { keyword: 'lamp', result_count: 12 }),
    actionWrite(user, '1', 'recent_search_keywords', now - 2000, { keyword: 'bike', result_count: 40 }),
    actionWrite(user, '2', 'recent_view_articles', now - 5000, { article_id: 2000 }),
  ]);
}
