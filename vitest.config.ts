import { defineConfig } from 'vitest/config';

/**
 * The unit tier: tests that need no service at all (no Redis, NATS or Kafka, and no in-process
 * emulator such as dynalite, kinesalite or s3rver); together they run in under a minute.
 * `npm run test:unit` runs them, `npm test` runs both tiers. A test file no entry matches is an
 * integration test; a new file in a directory listed whole (registry, ingest, serve, docs, lint,
 * support, and the top of console/) joins the unit tier and so must need no service. The console's
 * browser tests (test/console/browser/) are integration tests. Check the tier with the services out
 * of reach (as root): `unshare -n sh -c 'ip link set lo up; npm run test:unit'`.
 */
const UNIT = [
  'test/registry/**/*.test.ts',
  'test/ingest/**/*.test.ts',
  'test/docs/**/*.test.ts',
  'test/lint/**/*.test.ts',
  'test/support/**/*.test.ts',
  'test/serve/**/*.test.ts',
  'test/console/*.test.ts',
  'test/store/lmdb*.test.ts',
  'test/store/purger.test.ts',
  'test/enrich/lmdb-queue.test.ts',
  'test/enrich/handlers.test.ts',
  'test/enrich/autoscaler.test.ts',
  'test/enrich/enrichments.test.ts',
  'test/enrich/workers-reload.test.ts',
  'test/stream/adaptive-concurrency.test.ts',
  'test/stream/consumer-core.test.ts',
  'test/stream/keyed-scheduler.test.ts',
  'test/stream/offset-tracker.test.ts',
  'test/stream/stream-metrics.test.ts',
  'test/batch/backfill-embedded.test.ts',
  'test/batch/ingestion-spec.test.ts',
  'test/batch/planner.test.ts',
  'test/batch/readers.test.ts',
  'test/batch/scheduler-dag.test.ts',
];

export default defineConfig({
  test: {
    pool: 'forks',
    // The machine has 2 cores and the suites talk to real services; more workers only add noise.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 120_000,
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: UNIT } },
    ],
  },
});
