import { Option, type Command } from 'commander';
import type { BatchConfig } from '../config/batch-section.ts';
import { printDeprecation } from '../runtime/read-config.ts';
import { parsePositiveInt } from './options.ts';

export interface ThreadOptions {
  readonly threads?: number;
  /** Deprecated spelling of `--threads`: `--workers` means processes everywhere else. */
  readonly workers?: number;
}

/** `--threads <n>` of the batch commands, and its deprecated spelling `--workers <n>`. */
export function withThreadOptions(command: Command): Command {
  return command
    .option(
      '--threads <n>',
      'embedded mode: threads in the pool (default: batch.threads, else CPU count)',
      parsePositiveInt,
    )
    .addOption(new Option('--workers <n>', 'deprecated spelling of --threads').argParser(parsePositiveInt));
}

/** The `batch:` config with `--threads` (or the deprecated `--workers`) applied. */
export function withThreads(config: BatchConfig, options: ThreadOptions): BatchConfig {
  if (options.workers !== undefined) {
    printDeprecation({
      where: '--workers',
      message: 'on batch commands --workers is deprecated (it counts threads); use --threads',
    });
  }
  const threads = options.threads ?? options.workers;
  return threads === undefined ? config : { ...config, threads };
}
