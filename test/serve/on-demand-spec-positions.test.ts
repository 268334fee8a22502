import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadRegistry, validateRegistry } from '../../src/registry/load.ts';
import { tempDir } from '../support/temp-dir.ts';

/** `onDemand` is validated by the registry loader: every problem at its file:line:column. */
describe('onDemand in the registry loader', () => {
  const tmp = tempDir('larder-ondemand-spec-');
  afterAll(() => tmp.remove());

  function registry(name: string, onDemand: string): string {
    const dir = path.join(tmp.dir, name);
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'features.yaml'),
      'features:\n  user:\n    os:\n      events: [{streamName: s, topic: t, fields: [{name: os, type: string}]}]\n',
    );
    writeFileSync(path.join(dir, 'on-demand.yaml'), onDemand);
    return dir;
  }

  it('compiles a valid block into registry.onDemand', async () => {
    const dir = registry(
      'ok',
      'onDemand:\n  user:\n    blocked_users:\n      url: "http://users.internal/blocked/{id}"\n      method: GET\n      timeoutMs: 50\n      fallback: []\n      type: "list<int>"\n',
    );
    const loaded = await loadRegistry(dir);
    expect(loaded.onDemand).toEqual([
      expect.objectContaining({
        entity: 'user',
        name: 'blocked_users',
        timeoutMs: 50,
        fallback: [],
        type: { scalar: 'int', list: true },
      }),
    ]);
  });

  it('reports each problem with its code and position', async () => {
    const dir = registry(
      'bad',
      [
        'onDemand:', //                                   line 1
        '  user:', //                                     line 2
        '    blocked_users:', //                          line 3
        '      url: "ftp://users.internal/{id}"', //      line 4
        '      timeoutMs: -5', //                         line 5
        '      fallback: "none"', //                      line 6
        '      type: "lst<int>"', //                      line 7
        '      colour: red', //                           line 8
        '  nobody:', //                                   line 9
        '    x: {url: "http://a/{id}", timeoutMs: 5, fallback: null, type: int}',
        '',
      ].join('\n'),
    );
    const result = await validateRegistry(dir);
    expect('issues' in result).toBe(true);
    const issues = 'issues' in result ? result.issues : [];
    const file = 'on-demand.yaml';
    const at = (code: string, line: number, column: number) =>
      expect.objectContaining({ code, file, line, column });
    expect(issues).toEqual(
      expect.arrayContaining([
        at('LARDER_ERR_SPEC_INVALID_VALUE', 4, 12),
        at('LARDER_ERR_SPEC_INVALID_VALUE', 5, 18),
        at('LARDER_ERR_SPEC_FIELD_TYPE', 7, 13),
        at('LARDER_ERR_SPEC_UNKNOWN_KEY', 8, 7),
        at('LARDER_ERR_SPEC_REFERENCE', 9, 3),
      ]),
    );
  });
});
