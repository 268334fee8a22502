import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A real Git remote for registry tests: a bare repository, and a working clone that commits and
 * pushes to it with the `git` CLI, as a team would.
 */
export interface GitRemote {
  /** `file://` URL of the bare repository. */
  readonly url: string;
  /** Writes `files` (path → content; null deletes) in the clone, commits them and pushes; returns the commit id. */
  commit(message: string, files: Readonly<Record<string, string | null>>, branch?: string): string;
}

const ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Larder Test',
  GIT_AUTHOR_EMAIL: 'test@larder.invalid',
  GIT_COMMITTER_NAME: 'Larder Test',
  GIT_COMMITTER_EMAIL: 'test@larder.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

function git(cwd: string, args: readonly string[]): string {
  return execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Creates `<dir>/remote.git` (bare) and `<dir>/clone`, on branch `main`. */
export function createGitRemote(dir: string): GitRemote {
  const bare = path.join(dir, 'remote.git');
  const clone = path.join(dir, 'clone');
  mkdirSync(bare, { recursive: true });
  git(bare, ['init', '--bare', '--quiet', '--initial-branch=main']);
  mkdirSync(clone, { recursive: true });
  git(clone, ['init', '--quiet', '--initial-branch=main']);
  git(clone, ['remote', 'add', 'origin', bare]);
  const url = `file://${bare}`;
  return {
    url,
    commit(message, files, branch = 'main') {
      const current = git(clone, ['branch', '--show-current']).trim();
      if (current !== branch) {
        const exists = git(clone, ['branch', '--list', branch]).trim() !== '';
        git(clone, exists ? ['checkout', '--quiet', branch] : ['checkout', '--quiet', '-b', branch]);
      }
      for (const [file, content] of Object.entries(files)) {
        const full = path.join(clone, file);
        if (content === null) rmSync(full, { force: true });
        else {
          mkdirSync(path.dirname(full), { recursive: true });
          writeFileSync(full, content);
        }
      }
      git(clone, ['add', '--all']);
      git(clone, ['commit', '--quiet', '--allow-empty', '-m', message]);
      git(clone, ['push', '--quiet', 'origin', branch]);
      return git(clone, ['rev-parse', 'HEAD']).trim();
    },
  };
}
