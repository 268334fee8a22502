import { LarderError } from '../errors.ts';
import type { SpecIssue } from './types.ts';

/** Thrown by `loadRegistry` when the registry has problems; `issues` lists every one of them. */
export class SpecValidationError extends LarderError {
  readonly issues: readonly SpecIssue[];

  constructor(issues: readonly SpecIssue[]) {
    const first = issues[0];
    const summary =
      first === undefined
        ? 'the registry is invalid'
        : `the registry has ${issues.length} error${issues.length === 1 ? '' : 's'}; first: ${first.file}:${first.line}:${first.column} ${first.code} ${first.message}`;
    super('LARDER_ERR_SPEC_INVALID', summary, { details: { issues } });
    this.name = 'SpecValidationError';
    this.issues = issues;
  }
}

/**
 * One block per issue, for terminals and logs (a warning says so after its code):
 *
 * ```text
 * features/user.yaml:12:9  LARDER_ERR_SPEC_OPTYPE  ...condition.optype "equl" is not an optype: ...
 *   hint: Use one of equal, not_equal, .... Did you mean "equal"?
 * ```
 */
export function formatSpecIssues(issues: readonly SpecIssue[]): string {
  return issues
    .map(
      (issue) =>
        `${issue.file}:${issue.line}:${issue.column}  ${issue.code}${issue.severity === 'warning' ? ' (warning)' : ''}  ${issue.message}\n  hint: ${issue.hint}`,
    )
    .join('\n');
}
