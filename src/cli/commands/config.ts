import type { Command } from 'commander';
import { formatConfigIssues, type ConfigIssue } from '../../config/config-issues.ts';
import { checkConfig, ConfigError, type LarderConfig } from '../../config/load-config.ts';
import { formatSpecIssues, loadRegistry, SpecValidationError } from '../../registry/load.ts';
import { streamOverrideIssues } from '../../runtime/deployed-registry.ts';
import { serveOptionsFrom } from '../../runtime/serve-options.ts';

interface CheckOptions {
  readonly config?: string;
  readonly registry?: string;
}

export function register(program: Command): void {
  const config = program.command('config').description('Work with the config file.');
  config
    .command('check')
    .description(
      'Validate a config file (with the environment overrides) without starting anything; print every ' +
        'problem as file:line:col  CODE  message. Exit 1 on problems.',
    )
    .option('--config <file>', 'the config file (default: LARDER_CONFIG)')
    .option('--registry <dir>', 'also check that every streams.<name> names a stream of this registry')
    .action(async (options: CheckOptions) => {
      const problems = await checkAll(options);
      const name = problems.file ?? 'the default config';
      for (const w of problems.warnings) process.stderr.write(`${w.where}  deprecated  ${w.message}\n`);
      if (problems.issues.length > 0) {
        process.stderr.write(
          `${formatConfigIssues(problems.issues)}\n${problems.issues.length} problem(s) in ${name}\n`,
        );
        process.exitCode = 1;
        return;
      }
      if (problems.config !== undefined)
        process.stdout.write(`${name} is valid: ${summary(problems.config)}\n`);
    });
}

async function checkAll(options: CheckOptions): Promise<{
  readonly file: string | undefined;
  readonly config: LarderConfig | undefined;
  readonly issues: readonly ConfigIssue[];
  readonly warnings: readonly { where: string; message: string }[];
}> {
  const check = checkConfig(options.config);
  const file = options.config ?? (process.env.LARDER_CONFIG?.trim() || undefined);
  const issues: ConfigIssue[] = [...check.issues];
  const { config } = check;
  if (config !== undefined) {
    try {
      serveOptionsFrom(config);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      issues.push(...err.issues);
    }
    if (options.registry !== undefined) {
      try {
        issues.push(...streamOverrideIssues(config, await loadRegistry(options.registry)));
      } catch (err) {
        if (!(err instanceof SpecValidationError)) throw err;
        process.stderr.write(`${formatSpecIssues(err.issues)}\n`);
        issues.push({
          code: 'LARDER_ERR_SPEC_INVALID',
          where: options.registry,
          message: `the registry has ${err.issues.length} problem(s) (above); the streams cannot be checked against it`,
          hint: 'Run larder validate --registry <dir> and fix the registry first.',
        });
      }
    }
  }
  return { file, config: issues.length === 0 ? config : undefined, issues, warnings: check.warnings };
}

function summary(config: LarderConfig): string {
  const { store, cache, serve, batch } = config;
  const storeText =
    store.type === 'dynamodb'
      ? `dynamodb table ${store.table}${store.endpoint === undefined ? ` in ${store.region}` : ` at ${store.endpoint}`}`
      : `lmdb in ${store.path ?? 'the --data directory'}`;
  const levels = [
    ...(cache.local === undefined ? [] : [`local ${Math.round(cache.local.maxBytes / 1024 ** 2)} MB`]),
    ...(cache.redis === undefined ? [] : [`redis ${cache.redis.url}`]),
  ];
  return [
    `store ${storeText}`,
    `cache ${levels.join(' + ') || 'off'}`,
    `${config.streams.size} stream override(s)`,
    `serve workers ${serve.workers ?? 'one per core'}, hot entity TTL ${serve.hotEntityTtlMs} ms`,
    `batch ${batch.mode}`,
  ].join('; ');
}
