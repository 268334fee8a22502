import { ERROR_CATALOG, type ErrorCode } from '../errors.ts';
import type { SourcePos, SpecIssue } from './types.ts';

/**
 * Gathers every problem found in a registry instead of stopping at the first, so `larder validate`
 * can list them all at once. Errors make the registry invalid; warnings (a deprecated spelling, an
 * option nothing reads) do not. Both keep insertion order; `sorted()` and `warnings()` order them
 * by place.
 */
export class IssueCollector {
  readonly #errors: SpecIssue[] = [];
  readonly #warnings: SpecIssue[] = [];

  /** Records one problem. Without `hint`, the catalog's hint for `code` is used. */
  add(code: ErrorCode, message: string, at: SourcePos, hint?: string): void {
    this.#errors.push(issue('error', code, message, at, hint));
  }

  /** Records a warning: reported, but the registry stays valid. */
  warn(code: ErrorCode, message: string, at: SourcePos, hint?: string): void {
    this.#warnings.push(issue('warning', code, message, at, hint));
  }

  /** How many errors were recorded (warnings do not count). */
  get count(): number {
    return this.#errors.length;
  }

  /** Errors ordered by file, line and column; stable for errors at the same place. */
  sorted(): SpecIssue[] {
    return [...this.#errors].sort(byPlace);
  }

  /** Warnings ordered by file, line and column. */
  warnings(): SpecIssue[] {
    return [...this.#warnings].sort(byPlace);
  }
}

function issue(
  severity: SpecIssue['severity'],
  code: ErrorCode,
  message: string,
  at: SourcePos,
  hint: string | undefined,
): SpecIssue {
  return {
    severity,
    code,
    message,
    hint: hint ?? ERROR_CATALOG[code].hint,
    file: at.file,
    line: at.line,
    column: at.column,
  };
}

function byPlace(a: SpecIssue, b: SpecIssue): number {
  return (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.column - b.column;
}
