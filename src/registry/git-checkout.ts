import { execFile } from 'node:child_process';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LarderError } from '../errors.ts';
import { redactUrl, type RegistrySource } from './registry-source.ts';

type GitSource = Extract<RegistrySource, { kind: 'git' }>;

export interface GitCheckoutOptions {
  readonly source: GitSource;
  /** A directory this checkout owns: the fetched repository and one working tree per commit. */
  readonly workDir: string;
  /** Bound on each git command. Default 60 s. */
  readonly timeoutMs?: number;
  /** From the config file's `registry.git` or its variables (LARDER_REGISTRY_GIT_TOKEN and the like); never from the registry. */
  readonly credentials?: GitCredentials;
}

export interface GitCredentials {
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string | undefined;
  /** With `password`: HTTP basic. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

const COMMIT = /^[0-9a-f]{40,64}$/;

/**
 * A registry in a Git repository, read with the real `git` CLI (spawned without a shell, each
 * command bounded in time). The repository is fetched into a bare repository of this process's
 * own, and each commit is checked out into a directory of its own that is never changed
 * afterwards, so a registry compiled from it keeps reading what it was compiled from.
 * Credentials come from the config (or its variables), passed to git as configuration through its
 * environment (not on the command line, where `ps` would show them).
 */
export class GitCheckout {
  readonly #source: GitSource;
  readonly #workDir: string;
  readonly #timeoutMs: number;
  readonly #env: NodeJS.ProcessEnv;
  #initialised: Promise<void> | undefined;

  constructor(options: GitCheckoutOptions) {
    this.#source = options.source;
    this.#workDir = options.workDir;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#env = gitEnv(process.env, options.credentials ?? {});
  }

  get #gitDir(): string {
    return join(this.#workDir, 'repo.git');
  }

  /** Fetches the branch and returns its head commit. */
  async fetch(): Promise<string> {
    await this.#init();
    const ref = `refs/remotes/registry/${this.#source.branch}`;
    await this.#git([
      'fetch',
      '--no-tags',
      '--quiet',
      this.#source.url,
      `+refs/heads/${this.#source.branch}:${ref}`,
    ]);
    const commit = (await this.#git(['rev-parse', '--verify', `${ref}^{commit}`])).trim();
    if (!COMMIT.test(commit)) throw this.#error(`git rev-parse answered "${commit}", not a commit`);
    return commit;
  }

  /** The registry directory (the source's subdirectory) of `commit`, checked out once. */
  async checkout(commit: string): Promise<string> {
    if (!COMMIT.test(commit)) throw this.#error(`"${commit}" is not a commit id`);
    await this.#init();
    const tree = join(this.#workDir, 'commits', commit);
    const exists = await stat(tree).then(
      () => true,
      () => false,
    );
    if (!exists) {
      const tmp = `${tree}.tmp-${process.pid}-${Date.now()}`;
      await mkdir(tmp, { recursive: true });
      const env = { GIT_INDEX_FILE: `${tmp}.index` };
      try {
        await this.#git(['--work-tree', tmp, 'read-tree', commit], env);
        await this.#git(['--work-tree', tmp, 'checkout-index', '--all', '--force'], env);
        await rename(tmp, tree);
      } finally {
        await rm(tmp, { recursive: true, force: true });
        await rm(`${tmp}.index`, { force: true });
      }
    }
    return this.#source.subdir === '' ? tree : join(tree, ...this.#source.subdir.split('/'));
  }

  /** Removes everything this checkout fetched. */
  async remove(): Promise<void> {
    await rm(this.#workDir, { recursive: true, force: true });
  }

  #init(): Promise<void> {
    this.#initialised ??= (async () => {
      await mkdir(this.#workDir, { recursive: true });
      await this.#git(['init', '--bare', '--quiet', this.#gitDir], {}, false);
    })();
    return this.#initialised;
  }

  #git(args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}, inRepo = true): Promise<string> {
    const argv = inRepo ? ['--git-dir', this.#gitDir, ...args] : [...args];
    return new Promise((resolve, reject) => {
      execFile(
        'git',
        argv,
        {
          env: { ...this.#env, ...extraEnv },
          timeout: this.#timeoutMs,
          maxBuffer: 4 * 2 ** 20,
          killSignal: 'SIGKILL',
        },
        (err, stdout, stderr) => {
          if (err === null) return resolve(stdout);
          const timedOut = (err as { killed?: boolean }).killed === true;
          const detail = timedOut
            ? `did not finish within ${this.#timeoutMs} ms`
            : stderr.trim().split('\n').slice(-3).join(' ') || err.message;
          reject(this.#error(`git ${args[0] ?? ''} failed: ${redactUrl(detail)}`, err));
        },
      );
    });
  }

  #error(message: string, cause?: unknown): LarderError {
    const where = `${redactUrl(this.#source.url)}#${this.#source.branch}`;
    return new LarderError('LARDER_ERR_REGISTRY_GIT', `registry repository ${where}: ${message}`, {
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

/**
 * The environment git runs with: never prompts (a missing credential fails instead of hanging),
 * and sends the credentials, a bearer token or a user and password (HTTP basic), as an extra
 * header.
 */
function gitEnv(env: NodeJS.ProcessEnv, credentials: GitCredentials): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true' };
  const { token, username: user, password } = credentials;
  let header: string | undefined;
  if (token !== undefined && token !== '') header = `Authorization: Bearer ${token}`;
  else if (user !== undefined && password !== undefined)
    header = `Authorization: Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  if (header !== undefined) {
    const n = Number(env.GIT_CONFIG_COUNT ?? 0) || 0;
    out.GIT_CONFIG_COUNT = String(n + 1);
    out[`GIT_CONFIG_KEY_${n}`] = 'http.extraHeader';
    out[`GIT_CONFIG_VALUE_${n}`] = header;
  }
  return out;
}
