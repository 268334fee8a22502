import type { SpecIssue } from '../../registry/types.ts';
import type { RegistryStatus } from '../../serve/admin/admin-sources.ts';
import type { RegistryStatusView } from '../../serve/admin/admin-types.ts';

/**
 * What the registry watcher has done, for the console's registry page: when the version in force
 * was applied, and the last change it refused with that change's issues (a later applied change
 * clears nothing: the refusal stays visible until another one replaces it).
 */
export class RegistryStatusLog implements RegistryStatus {
  #appliedAt: number;
  #lastRefused: { at: number; issues: readonly SpecIssue[] } | null = null;

  constructor(readonly now: () => number = Date.now) {
    this.#appliedAt = now();
  }

  applied(): void {
    this.#appliedAt = this.now();
  }

  refused(issues: readonly SpecIssue[]): void {
    this.#lastRefused = { at: this.now(), issues };
  }

  status(): Pick<RegistryStatusView, 'appliedAt' | 'lastRefused'> {
    return {
      appliedAt: this.#appliedAt,
      lastRefused:
        this.#lastRefused === null
          ? null
          : { at: this.#lastRefused.at, issues: this.#lastRefused.issues.map((i) => ({ ...i })) },
    };
  }
}
