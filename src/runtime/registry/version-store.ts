import type { SourceFile } from '../../registry/source-files.ts';
import type { OnlineStore, StoreWrite } from '../../store/online-store.ts';

/**
 * The registry versions applied to a deployment, kept in its online store (LMDB or DynamoDB, the
 * same `OnlineStore` contract), so every process sharing the store sees the same ones:
 *
 * - `__larder:registry#current`: the version in force;
 * - `__larder:registry#v<n>`: applied version n, with its files (the last 1,000 are kept);
 * - `__larder:registry#history`: the index of those (a map: n → the version without its files);
 * - `__larder:registry#processes`: what each process runs (a map: process id → report).
 *
 * All are static values, one store item each (DynamoDB items hold at most 400 KB): the store's
 * rows, which hold the features' events, stay the features' alone.
 *
 * Each record carries the registry's files, so a process (re)starting, or a rollback, loads exactly
 * the applied version, whatever its own source holds at that moment.
 */
export const CURRENT_PK = '__larder:registry#current';
export const HISTORY_PK = '__larder:registry#history';
export const VERSION_PREFIX = '__larder:registry#v';
export const PROCESSES_PK = '__larder:registry#processes';
const HISTORY_MAX = 1_000;
const PROCESSES_MAX = 512;

export interface AppliedVersion {
  /** 1, 2, 3… in the order applied: what `larder registry rollback <n>` takes. */
  readonly seq: number;
  /** The registry's content hash (`Registry.version`). */
  readonly version: string;
  /** The Git commit it came from, when the source is a repository. */
  readonly commit: string | null;
  /** The source it came from (a directory, or the git+ URL without credentials). */
  readonly source: string;
  readonly appliedAt: number;
  /** What applied it: `larder apply`, `larder serve (git poll)`, `larder registry rollback 2`… */
  readonly command: string;
  /**
   * The newest source version the deployment has taken a decision on (applied it, or rolled back
   * past it). A process pulls its source into a new version only when the source holds another.
   */
  readonly sourceVersion: string | null;
  readonly files: readonly SourceFile[];
  /**
   * The registry directory's other files (enricher modules, sample data), which compiling the
   * YAML may check for: at most 64 KiB each and 256 KiB in all.
   */
  readonly assets?: readonly SourceFile[];
}

/** What one process reports, every heartbeat. */
export interface ProcessReport {
  /** `<host>:<pid>:<role>`. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  /** `serve`, `serve worker 2`, `ingest`, `enrich`, `scheduler`… */
  readonly role: string;
  /** The registry version it runs now. */
  readonly version: string;
  readonly seq: number | null;
  readonly startedAt: number;
  /** When it last reported. */
  readonly at: number;
  /** The last change its source offered that it refused (breaking), or null. */
  readonly refused: { readonly version: string; readonly reason: string } | null;
}

export class RegistryVersionStore {
  readonly #store: Pick<OnlineStore, 'getStatic' | 'write'>;

  constructor(store: Pick<OnlineStore, 'getStatic' | 'write'>) {
    this.#store = store;
  }

  async current(): Promise<AppliedVersion | undefined> {
    const [value] = await this.#store.getStatic([CURRENT_PK]);
    return asApplied(value?.value);
  }

  /** Applied versions, newest first, with their files. */
  async history(limit = HISTORY_MAX): Promise<AppliedVersion[]> {
    const [index] = await this.#store.getStatic([HISTORY_PK]);
    const map = index?.value;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) return [];
    const seqs = Object.keys(map)
      .map(Number)
      .filter((n) => Number.isSafeInteger(n))
      .sort((a, b) => b - a)
      .slice(0, limit);
    const values = await this.#store.getStatic(seqs.map((n) => `${VERSION_PREFIX}${n}`));
    return values.flatMap((value) => {
      const applied = asApplied(value?.value);
      return applied === undefined ? [] : [applied];
    });
  }

  /**
   * Records `entry` as the version in force, and in the history, in one write. Its number follows
   * the current one's; its time is never older than the current one's (clocks of two hosts differ,
   * and an older time would not replace the value).
   *
   * `basedOn` is the number of the applied version the caller planned over (0: none). When another
   * version was applied since, nothing is written: the answer is that version when it is the same
   * registry (another process published it first), else undefined (plan again). Processes following
   * one branch publish the same version with the same number, and the same history row.
   */
  async publish(
    entry: Omit<AppliedVersion, 'seq' | 'appliedAt'>,
    basedOn: number,
    now = Date.now(),
  ): Promise<AppliedVersion | undefined> {
    const current = await this.current();
    if ((current?.seq ?? 0) !== basedOn) return current?.version === entry.version ? current : undefined;
    const applied: AppliedVersion = {
      ...entry,
      seq: (current?.seq ?? 0) + 1,
      appliedAt: Math.max(now, (current?.appliedAt ?? 0) + 1),
    };
    const single = (pk: string, value: unknown, ttlMs?: number): StoreWrite => ({
      kind: 'static',
      pk,
      container: 'single',
      mutation: { op: 'set', value },
      ts: applied.appliedAt,
      ttlMs,
      maxCount: 1,
    });
    const { files: _files, assets: _assets, ...summary } = applied;
    const writes: StoreWrite[] = [
      single(`${VERSION_PREFIX}${applied.seq}`, applied),
      {
        kind: 'static',
        pk: HISTORY_PK,
        container: 'map',
        mutation: { op: 'put', key: String(applied.seq), value: summary },
        ts: applied.appliedAt,
        ttlMs: undefined,
        maxCount: HISTORY_MAX,
      },
      single(CURRENT_PK, applied),
    ];
    // The version that leaves the index expires at once (the purger removes it).
    if (applied.seq > HISTORY_MAX)
      writes.push(single(`${VERSION_PREFIX}${applied.seq - HISTORY_MAX}`, null, 1));
    await this.#store.write(writes);
    return applied;
  }

  async report(report: ProcessReport): Promise<void> {
    await this.#store.write([
      {
        kind: 'static',
        pk: PROCESSES_PK,
        container: 'map',
        mutation: { op: 'put', key: report.id, value: report },
        ts: report.at,
        ttlMs: undefined,
        maxCount: PROCESSES_MAX,
      },
    ]);
  }

  /** Removes a process's report (it stopped cleanly). */
  async forget(id: string, now = Date.now()): Promise<void> {
    await this.#store.write([
      {
        kind: 'static',
        pk: PROCESSES_PK,
        container: 'map',
        mutation: { op: 'delete', key: id },
        ts: now,
        ttlMs: undefined,
        maxCount: PROCESSES_MAX,
      },
    ]);
  }

  /** Every process's last report, newest first. */
  async processes(): Promise<ProcessReport[]> {
    const [value] = await this.#store.getStatic([PROCESSES_PK]);
    const map = value?.value;
    if (typeof map !== 'object' || map === null || Array.isArray(map)) return [];
    return Object.values(map as Record<string, ProcessReport>)
      .filter((r) => typeof r === 'object' && r !== null && typeof r.version === 'string')
      .sort((a, b) => b.at - a.at);
  }
}

function asApplied(value: unknown): AppliedVersion | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<AppliedVersion>;
  if (typeof v.version !== 'string' || typeof v.seq !== 'number' || !Array.isArray(v.files)) return undefined;
  return v as AppliedVersion;
}
