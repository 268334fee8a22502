import { execFile } from 'node:child_process';
import { get } from 'node:http';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/free-port.ts';
import { createGitRemote } from '../support/git-repo.ts';
import { LARDER_BIN, startLarder, type LarderProcess } from '../support/larder-process.ts';
import { tempDir } from '../support/temp-dir.ts';
import { waitUntil } from '../support/wait-until.ts';

const run = promisify(execFile);

interface TypeRef {
  readonly name: string | null;
  readonly ofType?: TypeRef | null;
}
interface GraphQLAnswer {
  readonly data?: {
    readonly user?: Record<string, unknown[]>;
    readonly __type?: { readonly fields: { readonly name: string; readonly type: TypeRef }[] } | null;
  };
  readonly errors?: unknown[];
}
interface ProcessView {
  readonly pid: number;
  readonly current: boolean;
  readonly seq: number | null;
  readonly refused: unknown;
}
interface RegistryView {
  readonly version: string;
  readonly rollout: {
    readonly applied: {
      readonly seq: number;
      readonly version: string;
      readonly commit: string | null;
    } | null;
    readonly processes: ProcessView[];
    readonly converged: boolean;
  } | null;
}
interface Health {
  readonly status: string;
  readonly registryRefused?: { readonly version: string; readonly reason: string };
}
const REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * The registry as reviewed, versioned config: a bare Git repository created here, commits pushed
 * to it with the git CLI, and two `larder serve` processes and one `larder ingest` process sharing
 * one store, all following the branch (docs/registry.md).
 */
describe('registry rollout from a Git repository', { timeout: 300_000 }, () => {
  const tmp = tempDir('larder-rollout-');
  const data = path.join(tmp.dir, 'data');
  const remote = createGitRemote(path.join(tmp.dir, 'git'));
  const topic = `larder-rollout:${randomBytes(6).toString('hex')}`;
  const redis = new Redis(REDIS_URL);
  const spec = `git+${remote.url}#main:registry`;
  const processes: LarderProcess[] = [];
  const ports: number[] = [];
  let ingestMetricsPort = 0;
  let serveB: LarderProcess;
  let ingest: LarderProcess;

  const ENTITIES = `entities:
  user:
    prefix: 'u:'
    idType: int
    idField: user_id
streams:
  events:
    source: redis
    connection: { url: '${REDIS_URL}' }
    group: larder
    subTopicField: type
    entityIdField: user_id
    timestampField: ts
    eventIdField: event_id
    options: { fetchWait: 100ms, consumerName: rollout-ingest }
`;
  const feature = (name: string, subTopic: string, itemType: string): string => `features:
  user:
    ${name}:
      featureType: action
      maxCount: 10000
      events:
        - streamName: events
          topic: '${topic}'
          subTopic: ${subTopic}
          fields: [{ name: item_id, type: ${itemType} }]
`;

  let published = 0;
  async function publish(type: string, count: number, userId = 1): Promise<void> {
    const pipeline = redis.pipeline();
    for (let i = 0; i < count; i++) {
      published += 1;
      const event = {
        event_id: `${type}-${published}`,
        type,
        user_id: userId,
        ts: Date.now(),
        item_id: published,
      };
      pipeline.xadd(topic, '*', 'data', JSON.stringify(event));
    }
    await pipeline.exec();
  }

  function startIngest(): LarderProcess {
    const started = startLarder([
      'ingest',
      '--registry',
      spec,
      '--registry-poll',
      '1s',
      '--data',
      data,
      '--metrics-port',
      String(ingestMetricsPort),
    ]);
    processes.push(started);
    return started;
  }

  const serveArgs = (port: number, workers = 1): string[] => [
    'serve',
    '--registry',
    spec,
    '--registry-poll',
    '1s',
    '--data',
    data,
    '--port',
    String(port),
    '--workers',
    String(workers),
    '--no-consumers',
    '--no-scheduler',
    '--no-enrich',
  ];

  async function graphql(port: number, query: string): Promise<{ status: number; body: GraphQLAnswer }> {
    const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, body: (await response.json()) as GraphQLAnswer };
  }

  async function registryView(port: number): Promise<RegistryView> {
    const response = await fetch(`http://127.0.0.1:${port}/v1/admin/registry`);
    return (await response.json()) as RegistryView;
  }

  /** Processes killed by the test: their last reports linger in the store for a while. */
  const killed = new Set<number>();
  /** Serve A's two workers, serve B and the ingest process. */
  const PROCESS_COUNT = 4;

  /** The processes alive, as the store lists them. */
  function live(view: RegistryView): ProcessView[] {
    return view.rollout?.processes.filter((p) => !killed.has(p.pid)) ?? [];
  }

  /** True once every live process reports the applied version `seq`, as both servers see it. */
  async function converged(seq: number): Promise<boolean> {
    for (const port of ports) {
      const view = await registryView(port);
      if (view.rollout?.applied?.seq !== seq) return false;
      if (view.version !== view.rollout.applied.version) return false;
      const processes = live(view);
      if (processes.length !== PROCESS_COUNT || !processes.every((p) => p.current && p.seq === seq))
        return false;
    }
    return true;
  }

  /** `GET path` on a new connection each time, so that the cluster's round robin reaches every worker. */
  function getFresh(port: number, path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve(body));
      }).on('error', reject);
    });
  }

  /** Waits for `converged(seq)`; on a timeout the error carries the processes' last output. */
  async function waitConverged(seq: number): Promise<void> {
    try {
      await waitUntil(() => converged(seq), 60_000, `all ${PROCESS_COUNT} processes on version ${seq}`, 200);
    } catch (err) {
      const tails = processes.map((p) => p.output().slice(-3_000)).join('\n----\n');
      throw new Error(`${(err as Error).message}\n${tails}`);
    }
  }

  async function rowsOf(port: number, name: string): Promise<unknown[] | undefined> {
    const result = await graphql(port, `{ user(id: 1) { ${name}(input: {count: 10000}) { item_id } } }`);
    return result.body.errors === undefined ? result.body.data?.user?.[name] : undefined;
  }

  async function itemIdType(port: number): Promise<string | undefined> {
    const result = await graphql(
      port,
      '{ __type(name: "UserClicksRow") { fields { name type { name ofType { name } } } } }',
    );
    const field = result.body.data?.__type?.fields.find((f) => f.name === 'item_id');
    return field?.type.name ?? field?.type.ofType?.name ?? undefined;
  }

  beforeAll(async () => {
    remote.commit('views', {
      'registry/entities.yaml': ENTITIES,
      'registry/views.yaml': feature('views', 'view', 'int'),
    });
    // Three different ports: two probes in a row can be handed the same free port.
    const taken = new Set<number>();
    while (taken.size < 3) taken.add(await freePort());
    [ingestMetricsPort] = [...taken].slice(2) as [number];
    ports.push(...[...taken].slice(0, 2));
    // Serve A runs two worker processes (`--workers 2`), serve B one.
    processes.push(startLarder(serveArgs(ports[0]!, 2)));
    serveB = startLarder(serveArgs(ports[1]!));
    processes.push(serveB);
    ingest = startIngest();
    for (const port of ports)
      await waitUntil(
        async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).ok,
        60_000,
        'the servers to be ready',
        200,
      );
    await waitConverged(1);
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    const keys = await redis.keys(`${topic}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    tmp.remove();
  });

  it('a commit adding a feature reaches both servers and the ingest process, under load, losing nothing', async () => {
    await publish('view', 20);
    for (const port of ports)
      await waitUntil(
        async () => (await rowsOf(port, 'views'))?.length === 20,
        30_000,
        'the first views',
        200,
      );

    // A bounded load loop runs through the rollout: queries to both servers, events to the stream.
    let stop = false;
    const failures: string[] = [];
    let requests = 0;
    const load = (async () => {
      for (let i = 0; i < 3_000 && !stop; i++) {
        await publish('view', 1);
        for (const port of ports) {
          const result = await graphql(port, '{ user(id: 1) { views(input: {count: 1}) { item_id } } }');
          requests += 1;
          if (result.status !== 200 || result.body.errors !== undefined)
            failures.push(`${result.status} ${JSON.stringify(result.body)}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    const commit = remote.commit('clicks', { 'registry/clicks.yaml': feature('clicks', 'click', 'int') });
    await waitConverged(2);
    const view = await registryView(ports[0]!);
    expect(view.rollout?.applied?.commit).toBe(commit);
    expect(view.rollout?.converged).toBe(true);
    // Both of serve A's workers answer, each on the new version.
    const seen = new Map<string, string>();
    await waitUntil(
      async () => {
        const answer = JSON.parse(await getFresh(ports[0]!, '/v1/admin/registry')) as {
          rollout: { self: { role: string; version: string } };
        };
        seen.set(answer.rollout.self.role, answer.rollout.self.version);
        return seen.size === 2;
      },
      30_000,
      "answers from both of serve A's workers",
      20,
    );
    expect([...seen.keys()].sort()).toEqual(['serve worker 1', 'serve worker 2']);
    expect(new Set(seen.values())).toEqual(new Set([view.rollout?.applied?.version]));
    // Some more load after the switch, then the loop ends.
    const after = requests;
    await waitUntil(() => requests >= after + 40, 30_000, 'load after the switch', 50);
    stop = true;
    await load;
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(40);

    // Events for the new feature are ingested by the ingest process and served by both servers.
    await publish('click', 5);
    for (const port of ports) {
      await waitUntil(
        async () => (await rowsOf(port, 'clicks'))?.length === 5,
        30_000,
        'the clicks on both servers',
        200,
      );
      // Every view event published through the rollout was ingested.
      const views = published - 5;
      await waitUntil(
        async () => (await rowsOf(port, 'views'))?.length === views,
        30_000,
        'every view event',
        200,
      );
    }
  });

  it('a breaking commit is refused by every process, which keep the old version until it is allowed', async () => {
    const breaking = remote.commit('clicks item_id as string', {
      'registry/clicks.yaml': feature('clicks', 'click', 'string'),
    });
    // The webhook target: pull now instead of at the next poll.
    const refresh = await fetch(`http://127.0.0.1:${ports[0]}/v1/admin/registry/refresh`, { method: 'POST' });
    expect(refresh.status).toBe(200);
    const refreshed = (await refresh.json()) as {
      source: { commit: string };
      refused: { reason: string } | null;
    };
    expect(refreshed.source.commit).toBe(breaking);
    expect(refreshed.refused?.reason).toContain('type:user.clicks.item_id');

    for (const port of ports) {
      const health = await waitUntil(
        async () => {
          const body = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Health;
          return body.registryRefused === undefined ? undefined : body;
        },
        30_000,
        'the refusal on /healthz',
        200,
      );
      expect(health.status).toBe('ok');
      expect(health.registryRefused?.reason).toMatch(
        /breaking change refused \(type:user\.clicks\.item_id\)/,
      );
      await waitUntil(
        async () => /^larder_registry_refused 1$/m.test(await getFresh(port, '/metrics')),
        30_000,
        'larder_registry_refused 1 in the metrics',
        200,
      );
      expect(await itemIdType(port)).toBe('Long');
    }
    // The ingest process refused it too, and every process still runs version 2.
    await waitUntil(
      async () => {
        const processes = live(await registryView(ports[0]!));
        return processes.length === PROCESS_COUNT && processes.every((p) => p.refused !== null);
      },
      30_000,
      'every process to report the refusal',
      200,
    );
    expect(await converged(2)).toBe(true);
    // The ingest process's metrics say it too.
    await waitUntil(
      async () => /^larder_registry_refused 1$/m.test(await getFresh(ingestMetricsPort, '/metrics')),
      30_000,
      'larder_registry_refused 1 in the ingest metrics',
      200,
    );

    // Allowed in the change itself: applied everywhere.
    remote.commit('allow the clicks type change', {
      'registry/allow.yaml': 'allowBreaking: [type:user.clicks.item_id]\n',
    });
    await waitConverged(3);
    for (const port of ports) {
      expect(await itemIdType(port)).toBe('String');
      const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Health;
      expect(health.registryRefused).toBeUndefined();
    }
  });

  it('a rollback restores the previous schema, and a process killed during it comes back on it', async () => {
    // serve B dies; the rollback happens while it is down.
    await serveB.stop('SIGKILL');
    killed.add(serveB.child.pid!);
    const rollback = await run(process.execPath, [
      LARDER_BIN,
      'registry',
      'rollback',
      '2',
      '--allow-breaking',
      '--data',
      data,
    ]);
    expect(rollback.stdout).toMatch(/Rolled back: version 4 is [0-9a-f]{12} \(as applied in 2\)\./);
    // The ingest process is killed while the rollout runs, and events keep arriving meanwhile.
    await ingest.stop('SIGKILL');
    killed.add(ingest.child.pid!);
    await publish('click', 5);
    ingest = startIngest();
    serveB = startLarder(serveArgs(ports[1]!));
    processes.push(serveB);
    await waitUntil(
      async () => (await fetch(`http://127.0.0.1:${ports[1]}/readyz`)).ok,
      60_000,
      'serve B back',
      200,
    );
    // It starts on the applied version (the rollback), not on its branch's head.
    await waitConverged(4);
    for (const port of ports) {
      expect(await itemIdType(port)).toBe('Long');
      // The clicks published while the ingest process was down are ingested after its restart.
      await waitUntil(
        async () => (await rowsOf(port, 'clicks'))?.length === 10,
        30_000,
        'all ten clicks',
        200,
      );
    }
    const history = await run(process.execPath, [
      LARDER_BIN,
      'registry',
      'history',
      '--data',
      data,
      '--json',
    ]);
    const entries = JSON.parse(history.stdout) as { seq: number; command: string; commit: string | null }[];
    expect(entries.map((e) => e.seq)).toEqual([4, 3, 2, 1]);
    expect(entries[0]!.command).toBe('larder registry rollback 2');
    expect(entries[0]!.commit).toBe(entries[2]!.commit);
    // `larder plan --against` a running server: the branch head over the rolled-back version.
    const plan = await run(process.execPath, [
      LARDER_BIN,
      'plan',
      '--registry',
      spec,
      '--against',
      `http://127.0.0.1:${ports[0]}`,
    ]).then(
      () => ({ code: 0, stdout: '' }),
      (err: { code: number; stdout: string }) => err,
    );
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain('  ~ UserClicksRow.item_id: Long → String\n');
    expect(plan.stdout).toContain('  ! type:user.clicks.item_id (allowed): ');
    // The branch head is not pulled in again over the rollback: it was decided on.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await converged(4)).toBe(true);
  });
});
