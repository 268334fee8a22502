/**
 * The profile read of the read-path benchmark: 3 static groups and 2 action groups (count 50) of
 * one user, asked the way the serving layer asks (getStatic and getRanges in one synchronous
 * pass). Also builds the registry (with a cache policy on every group) and the data.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partitionKey } from '../../src/keys/keys.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import type { ActionRow, OnlineStore, StaticValue, StoreWrite } from '../../src/store/online-store.ts';

export const STATIC_GROUPS = ['os', 'region_id', 'notification_keywords'] as const;
export const ACTION_GROUPS = ['recent_view_articles', 'recent_search_keywords'] as const;
export const COUNT = 50;
export const ROWS_PER_GROUP = 100;

export function registryYaml(levels: string): string {
  const cache = `cache: { levels: [${levels}], ttl: 10m, softTtl: 5m, jitter: 0.1 }`;
  const ev = (sub: string, field: string, type: string) =>
    `events: [{ streamName: ev, topic: t, subTopic: ${sub}, fields: [{ name: ${field}, type: ${type} }] }]`;
  return `
entities:
  user: { prefix: "u:", idType: int, idField: user_id }
streams:
  ev: { source: http, subTopicField: type, timestampField: ts, eventIdField: id }
features:
  user:
    os: { featureType: static, ${cache}, ${ev('os', 'os', 'string')} }
    region_id: { featureType: static, ${cache}, ${ev('region', 'region_id', 'int')} }
    notification_keywords:
      featureType: static
      containerType: set
      maxCount: 20
      ${cache}
      ${ev('kw', 'keyword', 'string')}
    recent_view_articles:
      featureType: action
      maxCount: ${ROWS_PER_GROUP}
      ttl: 30d
      ${cache}
      ${ev('view', 'article_id', 'int')}
    recent_search_keywords:
      featureType: action
      maxCount: ${ROWS_PER_GROUP}
      ttl: 7d
      ${cache}
      ${ev('search', 'keyword', 'string')}
`;
}

export async function benchRegistry(levels: string): Promise<RegistryHolder> {
  const dir = await mkdtemp(join(tmpdir(), 'larder-bench-reg-'));
  try {
    await writeFile(join(dir, 'registry.yaml'), registryYaml(levels));
    return new RegistryHolder(await loadRegistry(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes a full profile (3 statics, 2 x 100 rows) for users 0..users-1. */
export async function populate(store: OnlineStore, users: number, now: number): Promise<void> {
  for (let u0 = 0; u0 < users; u0 += 50) {
    const writes: StoreWrite[] = [];
    for (let u = u0; u < Math.min(users, u0 + 50); u++) {
      const pk = (g: string) => userKey(u, g);
      const base = { kind: 'static' as const, ttlMs: undefined, maxCount: 20, ts: now - 1000 };
      writes.push({
        ...base,
        pk: pk('os'),
        container: 'single',
        mutation: { op: 'set', value: u % 2 ? 'ios' : 'android' },
      });
      writes.push({
        ...base,
        pk: pk('region_id'),
        container: 'single',
        mutation: { op: 'set', value: 1000 + (u % 300) },
      });
      for (let k = 0; k < 5; k++) {
        writes.push({
          ...base,
          ts: now - 1000 + k,
          pk: pk('notification_keywords'),
          container: 'set',
          mutation: { op: 'add', value: `kw${(u + k) % 97}` },
        });
      }
      for (let i = 0; i < ROWS_PER_GROUP; i++) {
        const ts = now - (ROWS_PER_GROUP - i) * 60_000;
        writes.push({
          kind: 'action',
          pk: pk('recent_view_articles'),
          row: { ts, eventId: `v${u}-${i}`, values: { article_id: 1_000_000 + ((u * 131 + i) % 500_000) } },
          maxCount: ROWS_PER_GROUP,
          ttlMs: 30 * 86_400_000,
        });
        writes.push({
          kind: 'action',
          pk: pk('recent_search_keywords'),
          row: { ts, eventId: `s${u}-${i}`, values: { keyword: `keyword ${(u + i) % 1000}` } },
          maxCount: ROWS_PER_GROUP,
          ttlMs: 7 * 86_400_000,
        });
      }
    }
    await store.write(writes);
  }
}

export interface Profile {
  statics: (StaticValue | undefined)[];
  ranges: ActionRow[][];
}

/** The partition key of group `g` of user `u`. */
export function userKey(u: number, g: string): string {
  return partitionKey(USER, String(u), g);
}

const USER = { prefix: 'u:' };

/** One profile read of user `u`. */
export function readProfile(
  store: OnlineStore,
  u: number,
): Promise<[(StaticValue | undefined)[], ActionRow[][]]> {
  return Promise.all([
    store.getStatic(STATIC_GROUPS.map((g) => userKey(u, g))),
    store.getRanges(ACTION_GROUPS.map((g) => ({ pk: userKey(u, g), count: COUNT, lastNSec: undefined }))),
  ]);
}
