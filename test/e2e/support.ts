import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Writes the registry the broker end-to-end tests use: `user` entities and one action feature
 * `clicks` (field `item`) fed by the Redis stream `topic` on 127.0.0.1:6379, event ids in `id`.
 * `cached` gives the feature a `cache:` policy, so it is read through the cache levels.
 */
export function writeRedisStreamRegistry(registryDir: string, topic: string, cached = false): void {
  mkdirSync(registryDir, { recursive: true });
  writeFileSync(
    path.join(registryDir, 'r.yaml'),
    [
      'entities: {user: {idType: int}}',
      'streams:',
      '  ev: {source: redis, connection: {url: "redis://127.0.0.1:6379"}, eventIdField: id}',
      'features:',
      '  user:',
      '    clicks:',
      '      featureType: action',
      ...(cached ? ['      cache: {}'] : []),
      `      events: [{streamName: ev, topic: "${topic}", fields: [{name: item, type: int}]}]`,
      '',
    ].join('\n'),
  );
}

/** `larder serve` on one worker process over `registryDir` and `dataDir`, on `port`. */
export const serveArgs = (registryDir: string, dataDir: string, port: number): string[] => [
  'serve',
  '--registry',
  registryDir,
  '--data',
  dataDir,
  '--port',
  String(port),
  '--workers',
  '1',
];
