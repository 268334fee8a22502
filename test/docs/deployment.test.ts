import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/config/load-config.ts';
import { loadRegistry } from '../../src/registry/load.ts';
import { streamOverrideIssues } from '../../src/runtime/deployed-registry.ts';
import { startLarder } from '../support/larder-process.ts';

const at = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const CONFIG = at('examples/deployment/larder.yaml');
const REGISTRY = at('examples/deployment/registry');

/** docs/deployment.md's worked example: the config file it shows is valid, against its registry. */
describe('docs/deployment.md', () => {
  it('shows examples/deployment/larder.yaml verbatim', () => {
    const doc = readFileSync(at('docs/deployment.md'), 'utf8');
    const block =
      /<!-- deployment-config:begin -->\n```yaml\n([\s\S]*?)```\n<!-- deployment-config:end -->/.exec(doc);
    expect(block?.[1]).toBe(readFileSync(CONFIG, 'utf8'));
  });

  it('the config file passes the schema and names only streams of the registry', async () => {
    const check = checkConfig(CONFIG, {});
    expect(check.issues).toEqual([]);
    const config = check.config!;
    expect(config.store).toMatchObject({ type: 'dynamodb', table: 'larder-prod', region: 'eu-west-1' });
    expect(config.cache.redis?.url).toMatch(/^rediss:\/\//);
    expect(config.cache.local).toBeUndefined();
    expect(streamOverrideIssues(config, await loadRegistry(REGISTRY))).toEqual([]);
  });

  it('larder config check --registry accepts it', async () => {
    const run = startLarder(['config', 'check', '--config', CONFIG, '--registry', REGISTRY]);
    expect(await run.exited, run.output()).toBe(0);
    expect(run.output()).toContain('is valid');
  }, 30_000);
});
