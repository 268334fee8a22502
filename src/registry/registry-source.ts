import { LarderError } from '../errors.ts';

/** Where a registry comes from: what `--registry` names. */
export type RegistrySource =
  | { readonly kind: 'dir'; readonly dir: string }
  | {
      readonly kind: 'git';
      /** The repository URL as git takes it (`file:///srv/features.git`, `https://…`). */
      readonly url: string;
      /** Default `main`. */
      readonly branch: string;
      /** The registry's directory inside the repository, `/`-separated; `''` for the root. */
      readonly subdir: string;
    };

const GIT_PREFIX = 'git+';
/** Branch names git accepts, minus the odd corners (no `..`, no leading `-`, no `@{`). */
const BRANCH = /^(?!-)(?!.*\.\.)(?!.*@\{)[A-Za-z0-9._/-]+$/;
const URL_SCHEMES = new Set(['file:', 'http:', 'https:', 'ssh:', 'git:']);

function bad(spec: string, why: string): LarderError {
  return new LarderError('LARDER_ERR_REGISTRY_SOURCE', `--registry ${redactUrl(spec)}: ${why}`);
}

/**
 * Parses `--registry`: a directory, or `git+<url>#<branch>:<subdir>` where the branch defaults to
 * `main` and the subdirectory to the repository root. Throws LARDER_ERR_REGISTRY_SOURCE for a
 * `git+` value that cannot be a repository.
 */
export function parseRegistrySource(spec: string): RegistrySource {
  if (!spec.startsWith(GIT_PREFIX)) {
    if (spec === '') throw bad(spec, 'is empty');
    return { kind: 'dir', dir: spec };
  }
  const rest = spec.slice(GIT_PREFIX.length);
  const hash = rest.indexOf('#');
  const url = hash === -1 ? rest : rest.slice(0, hash);
  const fragment = hash === -1 ? '' : rest.slice(hash + 1);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad(
      spec,
      `"${redactUrl(url)}" is not a URL (write git+file:///path/repo.git or git+https://host/repo.git)`,
    );
  }
  if (!URL_SCHEMES.has(parsed.protocol))
    throw bad(
      spec,
      `the scheme ${parsed.protocol} is not one git fetches from (file, http, https, ssh, git)`,
    );
  if (parsed.protocol !== 'file:' && parsed.hostname === '') throw bad(spec, 'the URL names no host');
  if (parsed.pathname === '' || parsed.pathname === '/') throw bad(spec, 'the URL names no repository path');
  const colon = fragment.indexOf(':');
  const branch = (colon === -1 ? fragment : fragment.slice(0, colon)) || 'main';
  const rawSubdir = colon === -1 ? '' : fragment.slice(colon + 1);
  if (!BRANCH.test(branch)) throw bad(spec, `"${branch}" is not a branch name`);
  const parts = rawSubdir.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..' || p.startsWith('-')))
    throw bad(spec, `the subdirectory "${rawSubdir}" must stay inside the repository`);
  return { kind: 'git', url, branch, subdir: parts.join('/') };
}

/** The source as logs and the history show it: a URL's password and token never appear. */
export function describeRegistrySource(source: RegistrySource): string {
  if (source.kind === 'dir') return source.dir;
  return `git+${redactUrl(source.url)}#${source.branch}${source.subdir === '' ? '' : `:${source.subdir}`}`;
}

/** `url` with any user:password replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@');
}
