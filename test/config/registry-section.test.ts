import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/config/load-config.ts';
import { tempDir } from '../support/temp-dir.ts';

describe('the registry: section of the config file', () => {
  const tmp = tempDir('larder-registry-section-');
  afterAll(() => tmp.remove());

  it('takes git credentials from the file, and the environment wins', () => {
    const file = path.join(tmp.dir, 'larder.yaml');
    writeFileSync(file, 'registry:\n  git:\n    username: bot\n    password: from-file\n');
    expect(checkConfig(file, {}).config?.registry?.git).toEqual({
      token: undefined,
      username: 'bot',
      password: 'from-file',
    });
    expect(
      checkConfig(file, { LARDER_REGISTRY_GIT_PASSWORD: 'from-env' }).config?.registry?.git.password,
    ).toBe('from-env');
  });

  it('refuses an unknown key with its place', () => {
    const file = path.join(tmp.dir, 'bad.yaml');
    writeFileSync(file, 'registry:\n  git:\n    tokn: x\n');
    const check = checkConfig(file, {});
    expect(check.config).toBeUndefined();
    expect(check.issues.map((i) => [i.code, i.where])).toEqual([
      ['LARDER_ERR_CONFIG_UNKNOWN_KEY', `${file}:3:5`],
    ]);
  });
});
