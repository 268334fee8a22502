import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { GitCheckout, type GitCredentials } from '../../registry/git-checkout.ts';
import { RegistryHolder } from '../../registry/registry-holder.ts';
import { describeRegistrySource, type RegistrySource } from '../../registry/registry-source.ts';
import { SpecValidationError } from '../../registry/spec-error.ts';
import type { SourceFile } from '../../registry/source-files.ts';
import type { Registry, SpecIssue } from '../../registry/types.ts';
import { watchRegistry } from '../../registry/watch.ts';
import { acceptOnReplace, loadAcceptedRegistry } from '../accepted-registry.ts';

/** A registry read from its source, with the Git commit it came from when there is one. */
export interface SourcedRegistry {
  readonly registry: Registry;
  readonly commit: string | null;
}

export interface SourceWatchHandlers {
  /** A new valid version of the source. */
  readonly offer: (next: SourcedRegistry) => void;
  /** A new version of the source that does not validate: the running version stays. */
  readonly rejected: (issues: readonly SpecIssue[]) => void;
  /** The source could not be read (a git fetch failed); it is tried again at the next poll. */
  readonly failed: (err: unknown) => void;
}

/**
 * A registry source (a directory, or a Git branch), read the one way every process and command
 * reads it: the head (after a fetch), a given commit, and the changes from now on.
 */
export interface OpenedRegistrySource {
  readonly source: RegistrySource;
  /** The source as logs show it (no credentials). */
  readonly description: string;
  /** Loads and accepts the source's head. Throws SpecValidationError, or LARDER_ERR_REGISTRY_GIT. */
  head(): Promise<SourcedRegistry>;
  /** Loads and accepts the registry at `commit` (Git sources only; undefined for a directory). */
  atCommit(commit: string): Promise<Registry | undefined>;
  /**
   * Follows the source: a directory by its watcher (fs events and a poll), a repository by a
   * fetch every `pollMs`. `known` is the version in force when it starts.
   */
  watch(known: SourcedRegistry, pollMs: number, handlers: SourceWatchHandlers): { close(): void };
  /** Polls now (`POST /v1/admin/registry/refresh`): the head, and offered when it is new. */
  refresh(): Promise<SourcedRegistry>;
  /** Removes what reading it fetched. */
  close(): Promise<void>;
}

/** `credentials`: the config's `registry.git` (for a Git source over HTTP). */
export async function openRegistrySource(
  source: RegistrySource,
  credentials?: GitCredentials,
): Promise<OpenedRegistrySource> {
  return source.kind === 'dir' ? directorySource(source) : gitSource(source, credentials);
}

function directorySource(source: Extract<RegistrySource, { kind: 'dir' }>): OpenedRegistrySource {
  const dir = resolve(source.dir);
  let offerNow: (() => Promise<SourcedRegistry>) | undefined;
  return {
    source,
    description: dir,
    head: async () => ({ registry: await loadAcceptedRegistry(dir), commit: null }),
    atCommit: async () => undefined,
    watch(known, pollMs, handlers) {
      // A holder of the directory's own versions: the watcher applies to it, and every version it
      // takes is offered to the deployment, which decides.
      const files = new RegistryHolder(known.registry);
      acceptOnReplace(files);
      const watcher = watchRegistry(dir, files, {
        pollMs: Math.min(pollMs, 500),
        onApplied: (next) => handlers.offer({ registry: next, commit: null }),
        onRejected: (issues) => handlers.rejected(issues),
      });
      offerNow = async () => {
        const head = { registry: await loadAcceptedRegistry(dir), commit: null };
        if (head.registry.version !== files.current.version) files.replace(head.registry);
        else handlers.offer(head);
        return head;
      };
      return { close: () => watcher.close() };
    },
    refresh: async () =>
      (offerNow ?? (async () => ({ registry: await loadAcceptedRegistry(dir), commit: null })))(),
    close: async () => undefined,
  };
}

async function gitSource(
  source: Extract<RegistrySource, { kind: 'git' }>,
  credentials: GitCredentials | undefined,
): Promise<OpenedRegistrySource> {
  const workDir = await mkdtemp(join(tmpdir(), 'larder-registry-git-'));
  const git = new GitCheckout({ source, workDir, ...(credentials === undefined ? {} : { credentials }) });
  const atCommit = async (commit: string): Promise<Registry> =>
    loadAcceptedRegistry(await git.checkout(commit));
  const head = async (): Promise<SourcedRegistry> => {
    const commit = await git.fetch();
    return { registry: await atCommit(commit), commit };
  };
  let poll: (() => Promise<SourcedRegistry>) | undefined;
  let running: Promise<SourcedRegistry> | undefined;
  return {
    source,
    description: describeRegistrySource(source),
    head,
    atCommit,
    watch(known, pollMs, handlers) {
      let lastCommit = known.commit;
      // The registry of lastCommit: a poll that finds the same head compiles nothing.
      let last: SourcedRegistry | undefined;
      let closed = false;
      let timer: NodeJS.Timeout | undefined;
      const once = async (): Promise<SourcedRegistry> => {
        const commit = await git.fetch();
        if (commit === lastCommit && !closed) {
          last ??= { registry: await atCommit(commit), commit };
          return last;
        }
        lastCommit = commit;
        last = undefined;
        try {
          const next = { registry: await atCommit(commit), commit };
          last = next;
          if (!closed) handlers.offer(next);
          return next;
        } catch (err) {
          if (err instanceof SpecValidationError) handlers.rejected(err.issues);
          throw err;
        }
      };
      poll = () => (running ??= once().finally(() => (running = undefined)));
      const tick = (): void => {
        timer = setTimeout(() => {
          poll!()
            .catch((err: unknown) => {
              if (!(err instanceof SpecValidationError)) handlers.failed(err);
            })
            .finally(() => {
              if (!closed) tick();
            });
        }, pollMs);
        timer.unref();
      };
      tick();
      return {
        close() {
          closed = true;
          clearTimeout(timer);
        },
      };
    },
    refresh: async () => {
      if (poll === undefined) return head();
      // A fetch already running may have started before the push that asked for this refresh.
      await running?.catch(() => undefined);
      return poll();
    },
    close: () => git.remove(),
  };
}

/**
 * Loads a version from the files recorded with it (`AppliedVersion.files`), written into a
 * directory of `workDir` first: what a process runs when its own source does not hold the applied
 * version (a rollback, a restart on a directory that changed meanwhile).
 */
export async function loadRecordedRegistry(
  recorded: {
    readonly version: string;
    readonly files: readonly SourceFile[];
    readonly assets?: readonly SourceFile[];
  },
  workDir?: string,
): Promise<Registry> {
  const base = workDir ?? (await mkdtemp(join(tmpdir(), 'larder-registry-version-')));
  const dir = join(base, recorded.version.slice(0, 16));
  await rm(dir, { recursive: true, force: true });
  for (const file of [...recorded.files, ...(recorded.assets ?? [])]) {
    const path = join(dir, ...file.path.split('/'));
    if (!path.startsWith(dir + sep)) continue; // a recorded path never leaves its directory
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
  }
  await mkdir(dir, { recursive: true });
  return loadAcceptedRegistry(dir);
}
