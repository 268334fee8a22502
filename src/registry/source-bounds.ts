import type { IssueCollector } from './issue-collector.ts';
import type { SourceFile } from './source-files.ts';
import type { SpecLimits } from './spec-limits.ts';

/**
 * The files that are within the size bounds, in order; an issue at each file that is not: one
 * over `maxFileBytes`, or the first one that takes the running total over `maxTotalBytes` (the
 * files after it are skipped without further issues).
 */
export function filesWithinBounds(
  files: readonly SourceFile[],
  limits: SpecLimits,
  issues: IssueCollector,
): SourceFile[] {
  const within: SourceFile[] = [];
  let total = 0;
  for (const file of files) {
    const bytes = Math.max(file.bytes ?? 0, Buffer.byteLength(file.content));
    const where = { file: file.path, line: 1, column: 1 };
    if (bytes > limits.maxFileBytes) {
      issues.add(
        'LARDER_ERR_SPEC_TOO_LARGE',
        `${file.path} is ${bytes} bytes; the limit is ${limits.maxFileBytes} bytes per registry file`,
        where,
      );
      continue;
    }
    total += bytes;
    if (total > limits.maxTotalBytes) {
      issues.add(
        'LARDER_ERR_SPEC_TOO_LARGE',
        `the registry files add up to more than ${limits.maxTotalBytes} bytes at ${file.path}; ` +
          'the files from here on were not read',
        where,
      );
      break;
    }
    within.push(file);
  }
  return within;
}
