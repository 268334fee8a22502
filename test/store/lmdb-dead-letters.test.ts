import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewDeadLetter } from '../../src/store/dead-letters.ts';
import { LmdbDeadLetterStore } from '../../src/store/lmdb/lmdb-dead-letters.ts';
import { openLmdbEnv, type LmdbEnv } from '../../src/store/lmdb/lmdb-env.ts';
import { manualClock } from './manual-clock.ts';

function letter(n: number, extra: Partial<NewDeadLetter> = {}): NewDeadLetter {
  return {
    stream: 'client_event',
    topic: 'client_event_cleansed',
    body: { n, params: { article_id: 'not-a-number' } },
    raw: undefined,
    code: 'LARDER_ERR_EVENT_TYPE',
    reason: `field params.article_id is not an int (#${n})`,
    feature: 'user.recent_view_articles',
    origin: 'http',
    attempts: 1,
    ...extra,
  };
}

describe('LmdbDeadLetterStore', () => {
  let dir: string;
  let env: LmdbEnv;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'larder-dlq-'));
    env = openLmdbEnv(dir);
  });
  afterEach(async () => {
    await env.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('adds entries with sortable ids and reads them back exactly', async () => {
    const clock = manualClock();
    const dlq = new LmdbDeadLetterStore(env, { now: clock.now });
    const added = await dlq.add([
      letter(1),
      letter(2, { raw: '{not json', body: undefined, feature: undefined }),
    ]);
    expect(added).toHaveLength(2);
    expect((added[0]?.id ?? '') < (added[1]?.id ?? '')).toBe(true);
    expect(added[0]?.at).toBe(clock.now());
    expect(await dlq.get(added[1]?.id ?? '')).toEqual(added[1]);
    expect(await dlq.get('000000000000000-000000')).toBeUndefined();
    expect(await dlq.count()).toBe(2);
    // An explicit `at` is kept; the id still follows insertion order.
    const [late] = await dlq.add([letter(3, { at: 5 })]);
    expect(late?.at).toBe(5);
    expect((late?.id ?? '') > (added[1]?.id ?? '')).toBe(true);
  });

  it('lists oldest first and pages with after', async () => {
    const clock = manualClock();
    const dlq = new LmdbDeadLetterStore(env, { now: clock.now });
    const all = [];
    for (let batch = 0; batch < 5; batch++) {
      all.push(...(await dlq.add([letter(batch * 3), letter(batch * 3 + 1), letter(batch * 3 + 2)])));
      if (batch % 2 === 0) clock.advance(1);
    }
    expect((await dlq.list()).map((d) => d.id)).toEqual(all.map((d) => d.id));
    const pages: string[][] = [];
    let after: string | undefined;
    for (;;) {
      const page = await dlq.list({ limit: 4, after });
      if (page.length === 0) break;
      pages.push(page.map((d) => d.id));
      after = page.at(-1)?.id;
    }
    expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 3]);
    expect(pages.flat()).toEqual(all.map((d) => d.id));
    expect(await dlq.list({ limit: 0 })).toEqual([]);
  });

  it('removes by id and reports how many existed', async () => {
    const dlq = new LmdbDeadLetterStore(env);
    const added = await dlq.add([letter(1), letter(2), letter(3)]);
    const ids = added.map((d) => d.id);
    expect(await dlq.remove([ids[0] ?? '', 'missing', ids[2] ?? ''])).toBe(2);
    expect((await dlq.list()).map((d) => d.id)).toEqual([ids[1]]);
    expect(await dlq.count()).toBe(1);
    expect(await dlq.remove([])).toBe(0);
  });

  it('ids keep increasing across a restart, even when the clock goes back', async () => {
    const clock = manualClock();
    const before = await new LmdbDeadLetterStore(env, { now: clock.now }).add([letter(1), letter(2)]);
    await env.close();
    env = openLmdbEnv(dir);
    clock.set(clock.now() - 60_000);
    const reopened = new LmdbDeadLetterStore(env, { now: clock.now });
    const after = await reopened.add([letter(3)]);
    expect((after[0]?.id ?? '') > (before[1]?.id ?? '')).toBe(true);
    expect((await reopened.list()).map((d) => d.reason)).toEqual([
      before[0]?.reason,
      before[1]?.reason,
      after[0]?.reason,
    ]);
  });

  it('shares the environment with the online store without mixing data', async () => {
    const dlq = new LmdbDeadLetterStore(env);
    await dlq.add([letter(1)]);
    expect(env.statics.getKeysCount()).toBe(0);
    expect(await dlq.count()).toBe(1);
  });
});
