import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GitCheckout } from '../../src/registry/git-checkout.ts';
import { describeRegistrySource, parseRegistrySource } from '../../src/registry/registry-source.ts';
import { createGitRemote } from '../support/git-repo.ts';
import { tempDir } from '../support/temp-dir.ts';

describe('--registry git+<url>#<branch>:<subdir>', () => {
  it('parses a directory, and git+ URLs with their branch and subdirectory defaults', () => {
    expect(parseRegistrySource('./registry')).toEqual({ kind: 'dir', dir: './registry' });
    expect(parseRegistrySource('git+file:///srv/features.git#main:registry')).toEqual({
      kind: 'git',
      url: 'file:///srv/features.git',
      branch: 'main',
      subdir: 'registry',
    });
    expect(parseRegistrySource('git+https://git.example.com/ml/features.git')).toEqual({
      kind: 'git',
      url: 'https://git.example.com/ml/features.git',
      branch: 'main',
      subdir: '',
    });
    expect(parseRegistrySource('git+https://git.example.com/ml/features.git#release/2:specs/prod/')).toEqual({
      kind: 'git',
      url: 'https://git.example.com/ml/features.git',
      branch: 'release/2',
      subdir: 'specs/prod',
    });
  });

  it.each([
    ['git+not a url', /is not a URL/],
    ['git+ftp://host/repo.git', /scheme ftp: is not one git fetches from/],
    ['git+https://host.example/', /names no repository path/],
    ['git+file:///srv/features.git#ma..in', /"ma\.\.in" is not a branch name/],
    ['git+file:///srv/features.git#-x', /"-x" is not a branch name/],
    ['git+file:///srv/features.git#main:../etc', /must stay inside the repository/],
  ])('refuses %s with LARDER_ERR_REGISTRY_SOURCE', (spec, message) => {
    let caught: unknown;
    try {
      parseRegistrySource(spec);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'LARDER_ERR_REGISTRY_SOURCE' });
    expect((caught as Error).message).toMatch(message);
  });

  it('never shows a password of the URL', () => {
    const source = parseRegistrySource('git+https://bot:s3cret@git.example.com/ml/features.git#main');
    expect(describeRegistrySource(source)).toBe('git+https://***@git.example.com/ml/features.git#main');
    expect(() => parseRegistrySource('git+ftp://bot:s3cret@host/x.git')).toThrow(/\*\*\*@host/);
  });
});

describe('GitCheckout (the git CLI against a real bare repository)', () => {
  const tmp = tempDir('larder-git-source-');
  afterAll(() => tmp.remove());
  const remote = createGitRemote(path.join(tmp.dir, 'remote'));

  it('fetches the branch head and checks each commit out into a directory of its own', async () => {
    const first = remote.commit('first', { 'registry/a.yaml': 'one\n', 'README.md': 'x' });
    const source = parseRegistrySource(`git+${remote.url}#main:registry`);
    if (source.kind !== 'git') throw new Error('expected a git source');
    const checkout = new GitCheckout({ source, workDir: path.join(tmp.dir, 'work') });
    expect(await checkout.fetch()).toBe(first);
    const firstDir = await checkout.checkout(first);
    expect(readFileSync(path.join(firstDir, 'a.yaml'), 'utf8')).toBe('one\n');

    const second = remote.commit('second', { 'registry/a.yaml': 'two\n' });
    expect(await checkout.fetch()).toBe(second);
    const secondDir = await checkout.checkout(second);
    expect(readFileSync(path.join(secondDir, 'a.yaml'), 'utf8')).toBe('two\n');
    // The first commit's tree is left as it was: a registry compiled from it keeps its files.
    expect(readFileSync(path.join(firstDir, 'a.yaml'), 'utf8')).toBe('one\n');
    await checkout.remove();
  });

  it('fails with LARDER_ERR_REGISTRY_GIT for a branch or repository that is not there', async () => {
    remote.commit('base', { 'registry/a.yaml': 'x\n' });
    const noBranch = parseRegistrySource(`git+${remote.url}#nope`);
    const noRepo = parseRegistrySource(`git+file://${path.join(tmp.dir, 'missing.git')}#main`);
    for (const source of [noBranch, noRepo]) {
      if (source.kind !== 'git') throw new Error('expected a git source');
      const checkout = new GitCheckout({ source, workDir: path.join(tmp.dir, `w-${Math.random()}`) });
      await expect(checkout.fetch()).rejects.toMatchObject({ code: 'LARDER_ERR_REGISTRY_GIT' });
      await checkout.remove();
    }
  });

  it('sends the configured credentials to an HTTP remote, as a header git is given in its environment', async () => {
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(403).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      for (const [credentials, header] of [
        [{ token: 't0ken' }, 'Bearer t0ken'],
        [{ username: 'bot', password: 'pw' }, `Basic ${Buffer.from('bot:pw').toString('base64')}`],
      ] as const) {
        const source = parseRegistrySource(`git+http://127.0.0.1:${port}/ml/features.git#main`);
        if (source.kind !== 'git') throw new Error('expected a git source');
        const checkout = new GitCheckout({
          source,
          workDir: path.join(tmp.dir, `h-${seen.length}`),
          credentials,
        });
        await expect(checkout.fetch()).rejects.toMatchObject({ code: 'LARDER_ERR_REGISTRY_GIT' });
        expect(seen.at(-1)).toBe(header);
        await checkout.remove();
      }
    } finally {
      server.close();
    }
  });
});
