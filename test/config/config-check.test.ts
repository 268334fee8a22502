import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { register as registerConfig } from '../../src/cli/commands/config.ts';
import { register as registerValidate } from '../../src/cli/commands/validate.ts';
import { writeRedisStreamRegistry } from '../e2e/support.ts';
import { startLarder } from '../support/larder-process.ts';
import { tempDir } from '../support/temp-dir.ts';

const tmp = tempDir('larder-config-check-');
afterAll(() => tmp.remove());
afterEach(() => {
  process.exitCode = undefined;
});

function file(name: string, yaml: string): string {
  const f = path.join(tmp.dir, name);
  writeFileSync(f, yaml);
  return f;
}

/** Runs `larder <args>` in this process through commander; returns what it wrote and its exit code. */
async function larder(
  register: (program: Command) => void,
  args: string[],
): Promise<{ out: string; err: string; code: number }> {
  const program = new Command('larder').exitOverride();
  register(program);
  process.exitCode = undefined;
  let out = '';
  let err = '';
  const stdout = process.stdout.write.bind(process.stdout);
  const stderr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => (out += chunk).length > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => (err += chunk).length > 0) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'larder', ...args]);
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
  return { out, err, code: Number(process.exitCode ?? 0) };
}

describe('larder config check', () => {
  it('through the real CLI: every problem as file:line:col  CODE  message, exit 1; a good file exits 0', async () => {
    const bad = file('bad.yaml', 'stroe: {type: dynamodb}\nserve:\n  hotEntityTtl: 30\n');
    const check = startLarder(['config', 'check', '--config', bad]);
    expect(await check.exited).toBe(1);
    const lines = check
      .output()
      .split('\n')
      .filter((l) => l.startsWith(bad));
    expect(lines).toEqual([
      `${bad}:1:1  LARDER_ERR_CONFIG_UNKNOWN_KEY  unknown key "stroe" at the top level. Did you mean "store"? (allowed: store, cache, streams, serve, batch, enrich, registry)`,
      `${bad}:3:17  LARDER_ERR_CONFIG_VALUE  serve.hotEntityTtl must be a duration like 500ms, 30s, 10m or 1h (got 30)`,
    ]);
    expect(check.output()).toContain(`2 problem(s) in ${bad}`);

    const good = file('good.yaml', 'store: {type: dynamodb, table: features}\nserve: {hotEntityTtl: 30s}\n');
    const ok = startLarder(['config', 'check', '--config', good]);
    expect(await ok.exited, ok.output()).toBe(0);
    expect(ok.output()).toContain(`${good} is valid: store dynamodb table features in us-east-1`);
  }, 60_000);

  it('reports problems from the environment at their variable, and deprecations without failing', async () => {
    const good = file('env.yaml', 'cache: {redis: {}}\n');
    process.env.LARDER_MAX_DEPTH = 'deep';
    process.env.LARDER_CACHE_REDIS_URL = 'redis://127.0.0.1:6380';
    try {
      const { err, code } = await larder(registerConfig, ['config', 'check', '--config', good]);
      expect(code).toBe(1);
      expect(err).toContain(
        '$LARDER_MAX_DEPTH  LARDER_ERR_CONFIG_VALUE  serve.limits.maxDepth must be a whole number of at least 1 (from LARDER_MAX_DEPTH="deep")',
      );
      expect(err).toContain('$LARDER_CACHE_REDIS_URL  deprecated  LARDER_CACHE_REDIS_URL is deprecated');
    } finally {
      delete process.env.LARDER_MAX_DEPTH;
      delete process.env.LARDER_CACHE_REDIS_URL;
    }
    process.env.LARDER_HOT_ENTITY_TTL_MS = '250';
    try {
      const { out, err, code } = await larder(registerConfig, ['config', 'check', '--config', good]);
      expect(code).toBe(0);
      expect(out).toContain('hot entity TTL 250 ms');
      expect(err).toContain('LARDER_HOT_ENTITY_TTL_MS is deprecated; use `LARDER_HOT_ENTITY_TTL`');
    } finally {
      delete process.env.LARDER_HOT_ENTITY_TTL_MS;
    }
  });

  it('checks serve.auth, and with --registry that every stream override names a stream', async () => {
    const registryDir = path.join(tmp.dir, 'registry');
    writeRedisStreamRegistry(registryDir, 'larder-test-config-check');
    const f = file('auth.yaml', 'serve:\n  auth: {readKeys: [short]}\nstreams:\n  evv: {group: g}\n');
    const { err, code } = await larder(registerConfig, [
      'config',
      'check',
      '--config',
      f,
      '--registry',
      registryDir,
    ]);
    expect(code).toBe(1);
    expect(err).toContain(
      `${f}:2:9  LARDER_ERR_CONFIG_VALUE  serve.auth: an API key is 5 characters long; use at least 16 random characters`,
    );
    expect(err).toContain(
      `${f}:4:3  LARDER_ERR_CONFIG_UNKNOWN_KEY  streams.evv names no stream of the registry. Did you mean "ev"? (streams: ev)`,
    );
  });
});

describe('larder validate', () => {
  it('takes the registry as --registry or as a positional argument', async () => {
    const registryDir = path.join(tmp.dir, 'valid-registry');
    writeRedisStreamRegistry(registryDir, 'larder-test-validate');
    const byOption = await larder(registerValidate, ['validate', '--registry', registryDir]);
    const byArgument = await larder(registerValidate, ['validate', registryDir]);
    expect(byOption.out).toContain(`registry ${registryDir} is valid: 1 entities, 1 streams, 1 features`);
    expect(byArgument.out).toBe(byOption.out);
    await expect(
      larder(registerValidate, ['validate', registryDir, '--registry', path.join(tmp.dir, 'other')]),
    ).rejects.toThrow(/two registries given/);
  });
});
