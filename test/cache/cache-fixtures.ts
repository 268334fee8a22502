import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadRegistry } from '../../src/registry/load.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import type { ActionAppend, StaticWrite } from '../../src/store/online-store.ts';

/**
 * A registry exercising every cache policy shape. Groups (entity `user`, prefix `u:`):
 * - `region` static single, local+redis, write-through
 * - `keywords` static set, local+redis
 * - `os` static single, redis only, write-around
 * - `clicks` action, maxCount 20, local+redis
 * - `searches` action, maxCount 10, redis only, ttl 1h
 * - `plain` static single, no cache
 */
export const CACHE_REGISTRY_YAML = `
entities:
  user: { prefix: "u:", idType: int, idField: user_id }
streams:
  ev: { source: http, subTopicField: type, timestampField: ts, eventIdField: id }
features:
  user:
    region:
      featureType: static
      cache: { levels: [local, redis], ttl: 10m, softTtl: 5m, jitter: 0, negativeTtl: 30s, write: write-through }
      events: [{ streamName: ev, topic: t, subTopic: region, fields: [{ name: region, type: int }] }]
    keywords:
      featureType: static
      containerType: set
      cache: { levels: [local, redis], ttl: 10m }
      events: [{ streamName: ev, topic: t, subTopic: kw, fields: [{ name: kw, type: string }] }]
    os:
      featureType: static
      cache: { levels: [redis], ttl: 10m, write: write-around }
      events: [{ streamName: ev, topic: t, subTopic: os, fields: [{ name: os, type: string }] }]
    clicks:
      featureType: action
      maxCount: 20
      cache: { levels: [local, redis], ttl: 10m, softTtl: 5m, jitter: 0 }
      events: [{ streamName: ev, topic: t, subTopic: click, fields: [{ name: article_id, type: int }] }]
    searches:
      featureType: action
      maxCount: 10
      ttl: 1h
      cache: { levels: [redis], ttl: 10m }
      events: [{ streamName: ev, topic: t, subTopic: search, fields: [{ name: q, type: string }] }]
    plain:
      featureType: static
      events: [{ streamName: ev, topic: t, subTopic: plain, fields: [{ name: p, type: string }] }]
`;

export async function cacheRegistry(yaml = CACHE_REGISTRY_YAML): Promise<RegistryHolder> {
  const dir = await mkdtemp(join(tmpdir(), 'larder-cache-reg-'));
  try {
    await writeFile(join(dir, 'registry.yaml'), yaml);
    return new RegistryHolder(await loadRegistry(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A fresh LMDB store in a temp dir; `cleanup` closes nothing (the test closes the store). */
export async function tempLmdbStore(
  now?: () => number,
): Promise<{ store: LmdbStore; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'larder-cache-lmdb-'));
  const store = new LmdbStore(dir, now === undefined ? {} : { now });
  return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A user id no other test run uses, so a shared Redis never mixes runs. */
export function userId(): string {
  return String(Math.floor(Math.random() * 1e12));
}

/** A Redis namespace unique to this test. */
export function namespace(): string {
  return `larder-test:${randomUUID().slice(0, 8)}:`;
}

export function click(
  pk: string,
  ts: number,
  eventId: string,
  articleId: number,
  maxCount = 20,
): ActionAppend {
  return {
    kind: 'action',
    pk,
    row: { ts, eventId, values: { article_id: articleId } },
    maxCount,
    ttlMs: undefined,
  };
}

export function single(pk: string, value: unknown, ts: number): StaticWrite {
  return {
    kind: 'static',
    pk,
    container: 'single',
    mutation: { op: 'set', value },
    ts,
    ttlMs: undefined,
    maxCount: 100,
  };
}

export function addKeyword(pk: string, value: string, ts: number): StaticWrite {
  return {
    kind: 'static',
    pk,
    container: 'set',
    mutation: { op: 'add', value },
    ts,
    ttlMs: undefined,
    maxCount: 100,
  };
}
