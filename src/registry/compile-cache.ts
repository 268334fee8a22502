import type { SpecReader } from './node-reader.ts';
import type { SpecEntry } from './spec-node.ts';
import type { CacheLevelName, CachePolicy } from './types.ts';

export const CACHE_KEYS = ['levels', 'ttl', 'softTtl', 'jitter', 'negativeTtl', 'write'] as const;
/** Nearest first: the read path walks levels in this order. */
export const CACHE_LEVELS: readonly CacheLevelName[] = ['local', 'redis'];
export const CACHE_WRITE_MODES = ['write-through', 'write-around'] as const;

const DEFAULT_TTL_MS = 10 * 60_000;
const DEFAULT_NEGATIVE_TTL_MS = 30_000;
const DEFAULT_JITTER = 0.1;

/**
 * Compiles a feature's `cache:` block. Absent → undefined (the feature is not cached); present but
 * empty (`cache: {}` or `cache:`) → every default. Levels are put in read order (local, redis)
 * whatever order they are written in.
 */
export function compileCache(
  entry: SpecEntry | undefined,
  what: string,
  reader: SpecReader,
): CachePolicy | undefined {
  if (entry === undefined) return undefined;
  const map = reader.map(entry.value, what);
  if (map === undefined) return undefined;
  const keys = reader.keys(map, CACHE_KEYS, what);

  let levels: CacheLevelName[] = ['local'];
  const levelNode = keys.levels?.value;
  if (levelNode !== undefined && !(levelNode.kind === 'scalar' && levelNode.value === null)) {
    const items = reader.list(levelNode, `${what}.levels`) ?? [];
    const picked = new Set<CacheLevelName>();
    items.forEach((item, i) => {
      const level = reader.oneOf(
        { key: 'levels', keyPos: item.pos, value: item },
        `${what}.levels[${i}]`,
        CACHE_LEVELS,
      );
      if (level === undefined) return;
      if (picked.has(level)) {
        reader.issues.add(
          'LARDER_ERR_SPEC_DUPLICATE',
          `${what}.levels lists "${level}" twice`,
          item.pos,
          'List each level once.',
        );
      }
      picked.add(level);
    });
    if (items.length === 0) {
      reader.issues.add(
        'LARDER_ERR_SPEC_INVALID_VALUE',
        `${what}.levels must name at least one level (local, redis)`,
        levelNode.pos,
        'List the levels, or remove `cache:` to read the store directly.',
      );
    }
    if (picked.size > 0) levels = CACHE_LEVELS.filter((level) => picked.has(level));
  }

  const ttlMs = reader.duration(keys.ttl, `${what}.ttl`) ?? DEFAULT_TTL_MS;
  const softTtl = reader.duration(keys.softTtl, `${what}.softTtl`);
  if (softTtl !== undefined && softTtl > ttlMs && keys.softTtl !== undefined) {
    reader.issues.add(
      'LARDER_ERR_SPEC_INVALID_VALUE',
      `${what}.softTtl (${softTtl} ms) must not exceed ${what}.ttl (${ttlMs} ms)`,
      keys.softTtl.value.pos,
      'The soft TTL is when a background refresh starts; make it shorter than the hard ttl.',
    );
  }
  return {
    levels,
    ttlMs,
    softTtlMs: softTtl ?? Math.floor(ttlMs / 2),
    jitter: reader.number(keys.jitter, `${what}.jitter`, 0, 1) ?? DEFAULT_JITTER,
    negativeTtlMs:
      reader.duration(keys.negativeTtl, `${what}.negativeTtl`, { allowZero: true }) ??
      DEFAULT_NEGATIVE_TTL_MS,
    write: reader.oneOf(keys.write, `${what}.write`, CACHE_WRITE_MODES) ?? 'write-through',
  };
}
