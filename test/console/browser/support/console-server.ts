import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startLarder, type LarderProcess } from '../../../support/larder-process.ts';
import { freePort } from '../../../support/free-port.ts';
import { waitUntil } from '../../../support/wait-until.ts';

export const READ_KEY = 'console-read-key-0123456789';
export const ADMIN_KEY = 'console-admin-key-0123456789';

/**
 * The registry of the browser tests. `user.level` maps the event field `lvl`, but the events carry
 * `level`: every such event is dead-lettered until `fixed` maps the right field (a registry change
 * the running server picks up), after which a replay writes it.
 */
export function consoleRegistry(fixed: boolean): string {
  const levelField = fixed ? '{name: level, rename: lvl, type: int}' : '{name: lvl, type: int}';
  return `entities:
  user: {prefix: "u:", idType: int, idField: user_id}
streams:
  ev: {source: http, eventIdField: id, timestampField: ts}
features:
  user:
    clicks:
      featureType: action
      maxCount: 200
      ttl: 7d
      description: Items the user clicked, newest first.
      owner: growth-team
      tags: [engagement, ranking]
      events: [{streamName: ev, topic: clicks, fields: [{name: item, type: int}]}]
    level:
      featureType: static
      description: The user's membership level.
      owner: crm-team
      tags: [profile]
      events: [{streamName: ev, topic: profile, fields: [${levelField}]}]
    score:
      featureType: static
      description: Score computed nightly by the batch job.
      owner: ml-team
      tags: [batch]
      events: [{streamName: ev, topic: scores, fields: [{name: score, type: int}]}]
ingestions:
  nightly_scores:
    source: {format: jsonl, path: data/scores.jsonl}
    feature: user.score
    entityIdField: user_id
    fields: [{name: score, type: int}]
    maxErrorRate: 0
  score_report:
    source: {format: jsonl, path: data/scores.jsonl}
    feature: user.score
    entityIdField: user_id
    fields: [{name: score, type: int}]
    dependsOn: [nightly_scores]
`;
}

export function writeRegistry(dir: string, text: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'registry.yaml'), text);
}

export interface ConsoleServer {
  readonly url: string;
  readonly process: LarderProcess;
  /** Pushes events over HTTP (as an ingest client would). */
  push(topic: string, events: readonly object[]): Promise<void>;
  stop(): Promise<void>;
}

/** `larder serve` as a user starts it, with auth on and the console's charts sampled every 500 ms. */
export async function startConsoleServer(registryDir: string, dataDir: string): Promise<ConsoleServer> {
  const port = await freePort();
  const proc = startLarder(
    ['serve', '--registry', registryDir, '--data', dataDir, '--port', String(port), '--workers', '1'],
    {
      LARDER_API_KEYS: READ_KEY,
      LARDER_ADMIN_KEYS: ADMIN_KEY,
      LARDER_CONSOLE_SAMPLE_INTERVAL: '500ms',
      LARDER_LOG_LEVEL: 'warn',
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil(
    async () => (await fetch(`${url}/readyz`)).ok,
    30_000,
    `larder serve on ${url} to be ready (output: ${proc.output()})`,
    100,
  );
  return {
    url,
    process: proc,
    async push(topic, events) {
      const res = await fetch(`${url}/v1/streams/ev/${topic}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
        body: JSON.stringify(events),
      });
      if (!res.ok) throw new Error(`push to ${topic}: HTTP ${res.status} ${await res.text()}`);
    },
    stop: async () => void (await proc.stop()),
  };
}
