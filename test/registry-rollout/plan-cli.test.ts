import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PersistedQueries } from '../../src/serve/persisted-queries.ts';
import { LmdbStore } from '../../src/store/lmdb/lmdb-store.ts';
import { createGitRemote } from '../support/git-repo.ts';
import { LARDER_BIN } from '../support/larder-process.ts';
import { tempDir } from '../support/temp-dir.ts';

const run = promisify(execFile);

const ENTITIES = `entities:
  user:
    prefix: 'u:'
    idType: int
    idField: user_id
streams:
  client_event:
    source: http
    subTopicField: event_name
    timestampField: ts
    eventIdField: event_id
`;

const VIEWS = (types: string, itemType = 'int') => `features:
  user:
    recent_views:
      featureType: action
      maxCount: 50
      events:
        - streamName: client_event
          topic: app
          subTopic: view
          filter: [{ name: kind, type: string, condition: { optype: in, values: [${types}] } }]
          fields: [{ name: item_id, type: ${itemType} }]
`;

const COUNTRY = `features:
  user:
    country:
      featureType: static
      events:
        - streamName: client_event
          topic: app
          subTopic: login
          fields: [{ name: country, type: string }]
`;

const CLICKS = `features:
  user:
    clicks:
      featureType: action
      maxCount: 20
      events:
        - streamName: client_event
          topic: app
          subTopic: click
          fields: [{ name: item_id, type: int }]
`;

/** `larder <args>`: its stdout, stderr and exit code (0 when it succeeded). */
async function larder(args: readonly string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [LARDER_BIN, ...args], {
      env: { ...process.env, LARDER_CONFIG: '' },
    });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe('larder plan', { timeout: 120_000 }, () => {
  const tmp = tempDir('larder-plan-cli-');
  const data = path.join(tmp.dir, 'data');
  const base = path.join(tmp.dir, 'base');
  afterAll(() => tmp.remove());

  /** A copy of the base registry with `files` written over it. */
  function variant(name: string, files: Record<string, string>): string {
    const dir = path.join(tmp.dir, name);
    cpSync(base, dir, { recursive: true });
    for (const [file, content] of Object.entries(files)) writeFileSync(path.join(dir, file), content);
    return dir;
  }

  beforeAll(async () => {
    mkdirSync(base, { recursive: true });
    writeFileSync(path.join(base, 'entities.yaml'), ENTITIES);
    writeFileSync(path.join(base, 'views.yaml'), VIEWS('view'));
    writeFileSync(path.join(base, 'country.yaml'), COUNTRY);
    const applied = await larder(['apply', '--registry', base, '--data', data]);
    expect(applied.stdout).toMatch(/^Applied version 1 \([0-9a-f]{12}\)\.$/m);
    // A client persisted a query that reads user.country.
    const store = new LmdbStore(data);
    await store.open();
    await new PersistedQueries({ backing: store }).register(
      'query Country($id: ID!) { user(id: $id) { country } }',
    );
    await store.close();
  });

  it('says nothing changes, exit 0, for the applied registry', async () => {
    const result = await larder(['plan', '--registry', base, '--data', data]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^No changes: the registry is at version [0-9a-f]{12}\.\n$/);
  });

  it('reads a git+ registry the same way: validate and plan at the branch head', async () => {
    const remote = createGitRemote(path.join(tmp.dir, 'git'));
    const commit = remote.commit('base', {
      'specs/entities.yaml': ENTITIES,
      'specs/views.yaml': VIEWS('view'),
      'specs/country.yaml': COUNTRY,
    });
    const spec = `git+${remote.url}#main:specs`;
    const valid = await larder(['validate', '--registry', spec]);
    expect(valid.code).toBe(0);
    expect(valid.stdout).toMatch(/^registry git\+file:.* is valid: 1 entities, 1 streams, 2 features/);
    const plan = await larder(['plan', '--registry', spec, '--data', data]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^No changes/);
    const bad = await larder(['plan', '--registry', `git+${remote.url}#nope:specs`, '--data', data]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('LARDER_ERR_REGISTRY_GIT');
    const malformed = await larder(['plan', '--registry', 'git+ftp://x/y.git', '--data', data]);
    expect(malformed.stderr).toContain('LARDER_ERR_REGISTRY_SOURCE');
    expect(commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('an added feature: the feature, its schema fields and types, exit 2', async () => {
    const dir = variant('added', { 'clicks.yaml': CLICKS });
    const result = await larder(['plan', '--registry', dir, '--data', data]);
    expect(result.code).toBe(2);
    expect(result.stdout.split('\n').slice(1).join('\n')).toBe(
      `
Features:
  + user.clicks

GraphQL schema:
  + User.clicks: [UserClicksRow!]!
  + User.clicks(input): ActionFeatureInput
  + UserClicksRow: type

Plan: 1 to add, 0 to change, 0 to remove; 0 breaking.
`,
    );
  });

  it('a changed filter: the key that changed, before and after, exit 2', async () => {
    const dir = variant('filter', { 'views.yaml': VIEWS('view, preview') });
    const result = await larder(['plan', '--registry', dir, '--data', data]);
    expect(result.code).toBe(2);
    expect(result.stdout.split('\n').slice(1).join('\n')).toBe(
      `
Features:
  ~ user.recent_views
      ~ events[0].filter.kind.values: ["view"] → ["view","preview"]

Plan: 0 to add, 1 to change, 0 to remove; 0 breaking.
`,
    );
  });

  it('a type change on stored data is breaking: exit 3', async () => {
    const dir = variant('type', { 'views.yaml': VIEWS('view', 'string') });
    const result = await larder(['plan', '--registry', dir, '--data', data]);
    expect(result.code).toBe(3);
    expect(result.stdout.split('\n').slice(1).join('\n')).toBe(
      `
Features:
  ~ user.recent_views
      ~ events[0].fields.item_id.type: int → string
      ~ fields.item_id.type: int → string

GraphQL schema:
  ~ UserRecentViewsRow.item_id: Long → String

Breaking changes:
  ! type:user.recent_views.item_id: feature user.recent_views: field item_id type int → string; values already stored keep int

Plan: 0 to add, 1 to change, 0 to remove; 1 breaking (1 not allowed).
`,
    );
  });

  it('a removed group that a persisted query uses is breaking: exit 3, and --json says the same', async () => {
    const dir = variant('removed', { 'country.yaml': '' });
    const result = await larder(['plan', '--registry', dir, '--data', data]);
    expect(result.code).toBe(3);
    const body = result.stdout.split('\n').slice(1).join('\n');
    expect(body).toMatch(
      new RegExp(
        `^
Features:
  - user\\.country

GraphQL schema:
  - User\\.country: String

Breaking changes:
  ! group-removed:user\\.country: feature user\\.country removed; persisted query [0-9a-f]{12} still uses it

Plan: 0 to add, 0 to change, 1 to remove; 1 breaking \\(1 not allowed\\)\\.
$`,
      ),
    );
    const json = await larder(['plan', '--registry', dir, '--data', data, '--json']);
    expect(json.code).toBe(3);
    const plan = JSON.parse(json.stdout) as {
      exitCode: number;
      breaking: { id: string; allowed: boolean }[];
    };
    expect(plan.exitCode).toBe(3);
    expect(plan.breaking.map((b) => [b.id, b.allowed])).toEqual([['group-removed:user.country', false]]);
  });

  it('an allowBreaking list in the change itself allows it: exit 2', async () => {
    const dir = variant('allowed', {
      'views.yaml': VIEWS('view', 'string'),
      'allow.yaml': 'allowBreaking: [type:user.recent_views.item_id]\n',
    });
    const result = await larder(['plan', '--registry', dir, '--data', data]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(
      '  ! type:user.recent_views.item_id (allowed): feature user.recent_views',
    );
  });

  it('larder apply refuses a breaking change (exit 3) unless --allow-breaking, and history lists both', async () => {
    const dir = variant('apply-type', { 'views.yaml': VIEWS('view', 'string') });
    const refused = await larder(['apply', '--registry', dir, '--data', data]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('LARDER_ERR_REGISTRY_BREAKING');
    const forced = await larder(['apply', '--registry', dir, '--data', data, '--allow-breaking']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/^Applied version 2 \(/m);
    const history = await larder(['registry', 'history', '--data', data, '--json']);
    const entries = JSON.parse(history.stdout) as { seq: number; command: string; current: boolean }[];
    expect(entries.map((e) => [e.seq, e.command, e.current])).toEqual([
      [2, 'larder apply --allow-breaking', true],
      [1, 'larder apply', false],
    ]);
  });
});
