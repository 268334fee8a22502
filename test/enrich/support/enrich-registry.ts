import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The registry the enrichment end-to-end tests run: articles pushed on the `events` http stream
 * (sub-topic in `type`, event ids in `event_id`) trigger enrichers whose results come back on the
 * `enriched` stream and feed article features. Handlers are files in the registry directory:
 *
 * - `doubler` (module): `{doubled: n * 2}`;
 * - `flaky` (module): fails its first attempt, answers `{attempt}` on the second;
 * - `broken` (module): fails until the file `fixed` exists beside it; then `{fixed: true}`;
 * - `sleepy` (module): never answers (timeout 300ms, one retry);
 * - `embedder` (module): `{embedding: Float32Array [x, 0.5, -1]}`, for the `vector(3)` feature;
 * - `predictor` (command, plain Node, NDJSON): `{category}` after `delay` ms; exits the first time
 *   it sees `crashOnce` (writing that file), in the middle of whatever it is working on.
 */
export function writeEnrichRegistry(
  dir: string,
  /**
   * Results on a Redis stream (each topic named `<topicPrefix><topic>`, so runs never share one)
   * instead of the in-process `http` stream: they then reach the features through a consumer.
   */
  resultsOnRedis?: { readonly topicPrefix: string },
): void {
  const t = (topic: string): string => `${resultsOnRedis?.topicPrefix ?? ''}${topic}`;
  const enrichedStream =
    resultsOnRedis === undefined
      ? ''
      : '  enriched: {source: redis, connection: {url: "redis://127.0.0.1:6379"}, eventIdField: eventId}\n';
  mkdirSync(path.join(dir, 'handlers'), { recursive: true });
  const file = (name: string, text: string): void => writeFileSync(path.join(dir, name), text);
  file(
    'registry.yaml',
    `entities:
  article: {idType: int, idField: article_id}
streams:
  events: {source: http, subTopicField: type, eventIdField: event_id}
${enrichedStream}enrichers:
  doubler:
    trigger: {streamName: events, topic: articles, subTopic: created}
    input: {article_id: article_id, n: n}
    handler: {module: ./handlers/doubler.mjs}
    concurrency: {min: 1, max: 4}
    timeout: 5s
    onSuccess: {streamName: enriched, topic: ${t('doubled')}}
  flaky:
    trigger: {streamName: events, topic: articles, subTopic: flaky}
    input: {article_id: article_id}
    handler: {module: ./handlers/flaky.mjs}
    retries: {max: 2, backoff: 50ms, maxBackoff: 200ms}
    onSuccess: {streamName: enriched, topic: ${t('flaky')}}
  broken:
    trigger: {streamName: events, topic: articles, subTopic: broken}
    input: {article_id: article_id}
    handler: {module: ./handlers/broken.mjs}
    retries: {max: 1, backoff: 50ms}
    onSuccess: {streamName: enriched, topic: ${t('repaired')}}
    onFailure: {streamName: enriched, topic: ${t('broken_failed')}}
  sleepy:
    handler: {module: ./handlers/sleepy.mjs}
    timeout: 300ms
    retries: {max: 1, backoff: 10ms}
    onSuccess: {streamName: enriched, topic: ${t('slept')}}
  embedder:
    trigger: {streamName: events, topic: articles, subTopic: embed}
    input: {article_id: article_id, x: x}
    handler: {module: ./handlers/embedder.mjs}
    onSuccess: {streamName: enriched, topic: ${t('embedded')}}
  predictor:
    trigger: {streamName: events, topic: articles, subTopic: predict}
    input: {article_id: article_id, title: title, delay: delay, crashOnce: crashOnce}
    handler: {command: [node, handlers/predictor.mjs]}
    concurrency: {min: 4, max: 8}
    retries: {max: 3, backoff: 50ms}
    onSuccess: {streamName: enriched, topic: ${t('predicted')}}
features:
  article:
    doubled:
      events: [{streamName: enriched, topic: ${t('doubled')}, fields: [{name: result.doubled, rename: doubled, type: int}]}]
    flaky_attempt:
      events: [{streamName: enriched, topic: ${t('flaky')}, fields: [{name: result.attempt, rename: flaky_attempt, type: int}]}]
    repaired:
      events: [{streamName: enriched, topic: ${t('repaired')}, fields: [{name: result.fixed, rename: repaired, type: bool}]}]
    embedding:
      events: [{streamName: enriched, topic: ${t('embedded')}, fields: [{name: result.embedding, rename: embedding, type: "vector(3)"}]}]
    category:
      events: [{streamName: enriched, topic: ${t('predicted')}, fields: [{name: result.category, rename: category, type: string}]}]
    failures:
      featureType: action
      events:
        - streamName: enriched
          topic: ${t('broken_failed')}
          entityIdField: input.article_id
          fields: [{name: error.code, rename: code, type: string}, {name: attempts, type: int}]
`,
  );
  file('handlers/doubler.mjs', 'export default async (input) => ({ doubled: input.n * 2 });\n');
  file(
    'handlers/flaky.mjs',
    `export default async (input, ctx) => {
  if (ctx.attempt === 1) throw new Error('first attempts always fail');
  return { attempt: ctx.attempt };
};
`,
  );
  file(
    'handlers/broken.mjs',
    `import { existsSync } from 'node:fs';
export default async () => {
  if (!existsSync(new URL('./fixed', import.meta.url))) throw new Error('still broken');
  return { fixed: true };
};
`,
  );
  // As a real embedding model answers: a Float32Array, not a JSON array.
  file(
    'handlers/embedder.mjs',
    'export default async (input) => ({ embedding: new Float32Array([input.x, 0.5, -1]) });\n',
  );
  file('handlers/sleepy.mjs', 'export default () => new Promise(() => {});\n');
  file(
    'handlers/predictor.mjs',
    `import { existsSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
createInterface({ input: process.stdin }).on('line', (line) => {
  const { id, input } = JSON.parse(line);
  if (input.crashOnce && !existsSync(input.crashOnce)) {
    writeFileSync(input.crashOnce, 'crashed');
    process.exit(7);
  }
  const category = /bike/i.test(input.title) ? 'bikes' : 'other';
  setTimeout(() => process.stdout.write(JSON.stringify({ id, result: { category } }) + '\\n'), input.delay ?? 0);
});
`,
  );
}
