import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RegistryVersionStore,
  type AppliedVersion,
  type ProcessReport,
} from '../../src/runtime/registry/version-store.ts';
import { DynamoStore } from '../../src/store/dynamodb/dynamodb-store.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import type { OnlineStore } from '../../src/store/online-store.ts';
import { startDynalite, type DynaliteHandle } from '../store/dynalite-server.ts';
import { tempDir } from '../support/temp-dir.ts';

const entry = (
  version: string,
  extra: Partial<AppliedVersion> = {},
): Omit<AppliedVersion, 'seq' | 'appliedAt'> => ({
  version,
  commit: null,
  source: '/srv/registry',
  command: 'larder apply',
  sourceVersion: version,
  files: [{ path: 'a.yaml', content: `# ${version}\n` }],
  assets: [{ path: 'handlers/h.mjs', content: 'export default () => 1;\n' }],
  ...extra,
});

const report = (id: string, version: string, at: number): ProcessReport => ({
  id,
  host: 'h',
  pid: 1,
  role: 'serve',
  version,
  seq: 1,
  startedAt: 0,
  at,
  refused: null,
});

/** The registry versions on both stores a deployment can share: LMDB and DynamoDB (dynalite). */
describe.each([
  ['lmdb', 'lmdb'],
  ['dynamodb (dynalite)', 'dynamodb'],
] as const)('RegistryVersionStore on %s', (_name, kind) => {
  let store: OnlineStore;
  let dyn: DynaliteHandle | undefined;
  const tmp = tempDir('larder-versions-');

  beforeAll(async () => {
    if (kind === 'lmdb') store = new LmdbStore(tmp.dir);
    else {
      dyn = await startDynalite();
      store = new DynamoStore({
        table: await dyn.createTable(),
        endpoint: dyn.endpoint,
        region: 'us-east-1',
      });
    }
    await store.open();
  });
  afterAll(async () => {
    await store.close();
    await dyn?.close();
    tmp.remove();
  });

  it('publishes numbered versions, keeps the history newest first, and refuses a stale base', async () => {
    const versions = new RegistryVersionStore(store);
    expect(await versions.current()).toBeUndefined();
    const first = await versions.publish(entry('aaa'), 0, 1_000);
    expect(first).toMatchObject({ seq: 1, version: 'aaa', appliedAt: 1_000 });
    // A clock behind the last version's still moves time forward.
    const second = await versions.publish(entry('bbb', { commit: 'c'.repeat(40) }), 1, 500);
    expect(second).toMatchObject({ seq: 2, version: 'bbb', appliedAt: 1_001 });
    expect(await versions.current()).toEqual(second);
    // Planned over version 1, but 2 is applied: nothing is written.
    expect(await versions.publish(entry('ccc'), 1, 2_000)).toBeUndefined();
    // The same registry as the applied one, from another process planning over 1: that one.
    expect(await versions.publish(entry('bbb'), 1, 2_000)).toEqual(second);
    const history = await versions.history();
    expect(history.map((v) => [v.seq, v.version, v.commit])).toEqual([
      [2, 'bbb', 'c'.repeat(40)],
      [1, 'aaa', null],
    ]);
    expect(history[1]?.files).toEqual([{ path: 'a.yaml', content: '# aaa\n' }]);
    expect(history[1]?.assets).toEqual([{ path: 'handlers/h.mjs', content: 'export default () => 1;\n' }]);
  });

  it('keeps one report per process, and forgets a process that stopped', async () => {
    const versions = new RegistryVersionStore(store);
    await versions.report(report('h:1:serve', 'aaa', 10));
    await versions.report(report('h:2:ingest', 'aaa', 11));
    await versions.report(report('h:1:serve', 'bbb', 12));
    expect((await versions.processes()).map((p) => [p.id, p.version])).toEqual([
      ['h:1:serve', 'bbb'],
      ['h:2:ingest', 'aaa'],
    ]);
    await versions.forget('h:2:ingest', 13);
    expect((await versions.processes()).map((p) => p.id)).toEqual(['h:1:serve']);
  });
});
