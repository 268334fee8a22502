import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { partitionKey } from '../../src/keys/keys.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import type { StoreWrite } from '../../src/store/online-store.ts';

const USER = { prefix: 'u:' };
const ARTICLE = { prefix: 'c:flea:' };

/**
 * Realistic serving data, written straight into the embedded store (no ingestion pipeline):
 * `users` users with os, region and 1–5 keyword alerts, and two action features of 50–100 rows
 * each (article views pointing at random articles, searches); `articles` articles with title,
 * price and category. Deterministic (seeded), and kept between runs: a marker file records the
 * parameters, and data already generated with the same ones is reused.
 */
export interface BenchDataOptions {
  readonly users: number;
  readonly articles: number;
  readonly minRows: number;
  readonly maxRows: number;
}

const WRITES_PER_BATCH = 50_000;
/**
 * Bumped whenever what the generator writes changes: data written by another version is rebuilt
 * rather than reused (the marker file records it with the options).
 */
export const GENERATOR_VERSION = 2;
const KEYWORDS = ['bike', 'lego', 'iphone', 'sofa', 'camera', 'desk', 'stroller', 'guitar', 'tent', 'switch'];
const OSES = ['ios', 'android', 'web'];
const WORDS = [
  'Vintage',
  'Almost new',
  'Kids',
  'Folding',
  'Electric',
  'Wooden',
  'Compact',
  'Large',
  'Classic',
  'Pro',
];
const THINGS = [
  'bicycle',
  'desk',
  'camera',
  'sofa',
  'stroller',
  'guitar',
  'lamp',
  'tent',
  'console',
  'jacket',
];

/** mulberry32: small, fast, seeded. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Generates the data under `dataDir` unless it is already there; returns seconds spent. */
export async function ensureBenchData(
  dataDir: string,
  options: BenchDataOptions,
  log: (line: string) => void,
): Promise<number> {
  const marker = path.join(dataDir, 'bench-data.json');
  const wanted = JSON.stringify({ version: GENERATOR_VERSION, ...options });
  if (existsSync(marker) && readFileSync(marker, 'utf8') === wanted) {
    log(`data: reusing ${dataDir} (${wanted})`);
    return 0;
  }
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const started = performance.now();
  const store = new LmdbStore(dataDir, { env: { sync: false, mapSize: 32 * 2 ** 30 } });
  await store.open();
  const random = seededRandom(42);
  const now = Date.now();
  let batch: StoreWrite[] = [];
  let written = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    await store.write(batch);
    written += batch.length;
    batch = [];
  };
  const put = async (write: StoreWrite): Promise<void> => {
    batch.push(write);
    if (batch.length >= WRITES_PER_BATCH) await flush();
  };
  const single = (pk: string, value: unknown): StoreWrite => ({
    kind: 'static',
    pk,
    container: 'single',
    mutation: { op: 'set', value },
    ts: now,
    ttlMs: undefined,
    maxCount: 1,
  });

  for (let a = 1; a <= options.articles; a++) {
    const word = WORDS[Math.floor(random() * WORDS.length)]!;
    const thing = THINGS[Math.floor(random() * THINGS.length)]!;
    await put(single(partitionKey(ARTICLE, String(a), 'title'), `${word} ${thing} #${a}`));
    await put(single(partitionKey(ARTICLE, String(a), 'price'), Math.round(random() * 500) * 1000));
    await put(single(partitionKey(ARTICLE, String(a), 'category'), 1 + Math.floor(random() * 40)));
    if (a % 200_000 === 0) log(`data: ${a} articles`);
  }
  for (let u = 1; u <= options.users; u++) {
    await put(single(partitionKey(USER, String(u), 'os'), OSES[Math.floor(random() * OSES.length)]));
    await put(single(partitionKey(USER, String(u), 'region_id'), 1 + Math.floor(random() * 500)));
    const alerts = 1 + Math.floor(random() * 5);
    for (let k = 0; k < alerts; k++) {
      await put({
        kind: 'static',
        pk: partitionKey(USER, String(u), 'notification_keywords'),
        container: 'set',
        mutation: { op: 'add', value: KEYWORDS[Math.floor(random() * KEYWORDS.length)] },
        ts: now - k,
        ttlMs: undefined,
        maxCount: 20,
      });
    }
    for (const feature of ['recent_view_articles', 'recent_search_keywords'] as const) {
      const rows = options.minRows + Math.floor(random() * (options.maxRows - options.minRows + 1));
      for (let r = 0; r < rows; r++) {
        const ts = now - (r + 1) * 60_000 - Math.floor(random() * 30_000);
        const values =
          feature === 'recent_view_articles'
            ? { article_id: 1 + Math.floor(random() * options.articles) }
            : {
                keyword: `${KEYWORDS[Math.floor(random() * KEYWORDS.length)]} ${Math.floor(random() * 100)}`,
              };
        await put({
          kind: 'action',
          pk: partitionKey(USER, String(u), feature),
          row: { ts, eventId: `${u}-${r}`, values },
          maxCount: 100,
          ttlMs: undefined,
        });
      }
    }
    if (u % 20_000 === 0) log(`data: ${u} users`);
  }
  await flush();
  await store.close();
  writeFileSync(marker, wanted);
  const seconds = (performance.now() - started) / 1000;
  log(`data: ${written} writes in ${seconds.toFixed(1)} s (${Math.round(written / seconds)} writes/s)`);
  return seconds;
}
