import { ERROR_CATALOG, type ErrorCode } from '../errors.ts';
import type { SourcePos, SpecIssue } from './types.ts';

/**
 * Gathers every problem found in a registry instead of stopping at the first, so `larder validate`
 * can list them all at once. Issues keep insertion order; `sorted()` orders them by place.
 */
export class IssueCollector {
  readonly #issues: SpecIssue[] = [];

  /** Records one problem. Without `hint`, the catalog's hint for `code` is used. */
  add(code: ErrorCode, message: string, at: SourcePos, hint?: string): void {
    this.#issues.push({
      code,
      message,
      hint: hint ?? ERROR_CATALOG[code].hint,
      file: at.file,
      line: at.line,
      column: at.column,
    });
  }

  get count(): number {
    return this.#issues.length;
  }

  /** Issues ordered by file, line and column; stable for issues at the same place. */
  sorted(): SpecIssue[] {
    return [...this.#issues].sort(
      (a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.column - b.column,
    );
  }
}
