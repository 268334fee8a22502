import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../../src/errors.ts';
import { hashEvent } from '../../src/ingest/event-identity.ts';
import { createIngestor, type InProcessIngestor } from '../../src/ingest/ingestor.ts';
import type { IncomingEvent } from '../../src/ingest/types.ts';
import { entityIdKey } from '../../src/keys/keys.ts';
import { RegistryHolder } from '../../src/registry/registry-holder.ts';
import { openRealStores, type RealStores } from '../ingest/real-stores.ts';
import { binding, entity, feature, field, registry, stream } from '../support/registry-builder.ts';
import { FUZZ_RUNS, recordInputs } from './support/fuzz-budget.ts';

/**
 * The event extractor (the ingestor, shared by push, brokers and batch) against hostile events:
 * depth, sizes, encodings, NUL, lone surrogates, prototype keys and number edges. Every batch must
 * resolve in bounded time with an outcome per event; every rejection must carry a catalog code
 * and reach the dead-letter table; and the store must hold exactly the rows of the events
 * reported written: one per event id, none lost, none doubled, none from a rejected event.
 */

const NOW = Date.now();

const reg = registry({
  entities: [entity('user', { prefix: 'u:', idType: 'string' })],
  streams: [stream('s', { timestampField: 'ts', eventIdField: 'event_id' })],
  features: [
    feature('user', 'clicks', {
      featureType: 'action',
      maxCount: 1_000_000,
      events: [
        binding('s', 't', {
          fields: [
            field('payload', 'json', { required: false }),
            field('label', 'string', { required: false }),
          ],
        }),
      ],
    }),
  ],
});

/** Numbers at the edges: what JSON can carry and what it turns into. */
const edgeNumber = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    1.5,
    2 ** 53,
    2 ** 53 + 2,
    -(2 ** 53),
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    253402300799999,
    253402300800000,
  ),
  fc.constant(JSON.parse('1e400') as number),
  fc.constant(JSON.parse('-1e400') as number),
  fc.double({ noNaN: true }),
  fc.integer(),
);

/** Strings of every awkward kind: binary (lone surrogates), NUL, long, unicode. */
const edgeString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom(
    '',
    ' ',
    'a\u0000b',
    '\ud800',
    'a\udc00b',
    '\u{1F600}',
    'é'.repeat(600),
    'x'.repeat(2_000),
    '__proto__',
    'constructor',
  ),
);

const scalar = fc.oneof(edgeString, edgeNumber, fc.boolean(), fc.constant(null));

/** A value nested `depth` levels: objects and arrays in turn. */
function nested(depth: number, leaf: unknown): unknown {
  let value = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { k: value } : [value];
  return value;
}

const payload = fc.oneof(
  scalar,
  fc.jsonValue({ maxDepth: 4 }),
  fc.tuple(fc.integer({ min: 1, max: 3_000 }), scalar).map(([depth, leaf]) => nested(depth, leaf)),
  fc.integer({ min: 1, max: 200 }).map((n) => Array.from({ length: n * 100 }, (_, i) => i)),
);

/** Keys an attacker would try on a plain object, as own properties (the way JSON.parse makes them). */
const prototypeKeys = fc
  .subarray(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'])
  .map(
    (keys) =>
      JSON.parse(`{${keys.map((k) => `"${k}": {"polluted": true}`).join(',')}}`) as Record<string, unknown>,
  );

let seq = 0;
const eventBody = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        user_id: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom('u1', 'u2', 'u3') },
          { weight: 1, arbitrary: scalar },
        ),
        event_id: fc.oneof(
          { weight: 3, arbitrary: fc.constant(undefined) },
          { weight: 1, arbitrary: scalar },
        ),
        ts: fc.oneof(
          { weight: 3, arbitrary: fc.integer({ min: NOW - 86_400_000, max: NOW }) },
          {
            weight: 1,
            arbitrary: fc.oneof(
              edgeNumber,
              edgeString,
              fc.constantFrom('2024-02-29T12:00:00Z', '0000-01-01', '9999-12-31T23:59:59.999Z'),
            ),
          },
        ),
        payload,
        label: scalar,
        extra: prototypeKeys,
      })
      .map((body) => {
        // Mostly unique ids (so rows are countable); the generator's own ids sometimes collide.
        const withId = body.event_id === undefined ? { ...body, event_id: `g${seq++}` } : body;
        return { ...withId.extra, ...withId, extra: undefined };
      }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: prototypeKeys },
);

describe('fuzz: the event extractor (ingestor on the real LMDB store)', () => {
  let stores: RealStores;
  let ingestor: InProcessIngestor;
  beforeAll(async () => {
    stores = await openRealStores();
    ingestor = createIngestor({
      registry: new RegistryHolder(reg),
      store: stores.store,
      deadLetters: stores.deadLetters,
    });
  });
  afterAll(async () => {
    await stores.close();
  });

  it('each batch: an outcome per event, coded rejections, and exactly the written rows', async () => {
    /** The model: pk → event ids the store must hold. */
    const model = new Map<string, Set<string>>();
    let events = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(eventBody, { minLength: 1, maxLength: 20 }), async (bodies) => {
        const batch: IncomingEvent[] = bodies.map((body) => ({
          stream: 's',
          topic: 't',
          body,
          receivedAt: NOW,
        }));
        const started = performance.now();
        const report = await ingestor.ingest(batch);
        expect(performance.now() - started).toBeLessThan(5_000);
        events += batch.length;
        rejected += report.rejected;
        expect(report.results).toHaveLength(batch.length);
        expect(report.accepted + report.filtered + report.rejected).toBe(batch.length);
        for (const rejection of report.rejections) {
          expect(Object.hasOwn(ERROR_CATALOG, rejection.code), rejection.code).toBe(true);
          expect(rejection.code).not.toBe('LARDER_ERR_INTERNAL');
        }
        const touched = new Set<string>();
        report.results.forEach((result, i) => {
          if (result.outcome !== 'written') return;
          const body = bodies[i] as Record<string, unknown>;
          const pk = `u:${entityIdKey('string', body.user_id) ?? '?'}#clicks`;
          const id =
            typeof body.event_id === 'string' && body.event_id !== ''
              ? body.event_id
              : typeof body.event_id === 'number' && Number.isFinite(body.event_id)
                ? String(body.event_id)
                : hashEvent(undefined, body);
          let ids = model.get(pk);
          if (ids === undefined) model.set(pk, (ids = new Set()));
          ids.add(id);
          touched.add(pk);
        });
        const pks = [...touched];
        const ranges = await stores.store.getRanges(
          pks.map((pk) => ({ pk, count: 1_000_000, lastNSec: undefined })),
        );
        pks.forEach((pk, k) => {
          const stored = (ranges[k] ?? []).map((row) => row.eventId);
          expect(new Set(stored).size, `no doubled row under ${pk}`).toBe(stored.length);
          expect(new Set(stored)).toEqual(model.get(pk));
        });
      }),
      { numRuns: FUZZ_RUNS.eventBatches },
    );
    // Nothing rejected is dropped: each rejected event is one dead letter.
    expect(await stores.deadLetters.count()).toBe(rejected);
    recordInputs(`events: hostile bodies in batches of 1-20 (${rejected} rejected)`, events);
  }, 120_000);
});
