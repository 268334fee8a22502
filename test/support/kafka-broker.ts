import { startKafkaBroker, type KafkaBroker } from '../../scripts/kafka-broker.js';

export type { KafkaBroker };

/** A `beforeAll` timeout that covers a first-ever Maven resolve (at most 600 s) and a start. */
export const RESOLVE_AND_START_MS = 660_000;

/** Where a Kafka test connects, and how it lets go of a broker it started itself. */
export interface KafkaEndpoint {
  readonly brokers: string[];
  release(): Promise<void>;
}

/**
 * The broker of this test run: `npm test` starts one and passes it in LARDER_TEST_KAFKA_BROKERS.
 * A test file run on its own (`npx vitest run test/stream/kafka-source.test.ts`) starts its own
 * broker here and stops it in `release`. Call it in `beforeAll` (starting takes a few seconds, the
 * first time ever longer: Maven resolves the broker's jars into ~/.cache/larder-test).
 */
export async function kafkaEndpoint(): Promise<KafkaEndpoint> {
  const given = process.env.LARDER_TEST_KAFKA_BROKERS?.split(',').filter((b) => b !== '');
  if (given !== undefined && given.length > 0) return { brokers: given, release: async () => undefined };
  const broker = await startKafkaBroker({ log: () => undefined });
  return { brokers: [broker.brokers], release: () => broker.close() };
}

/**
 * A broker of the calling test's own, for tests that stop, kill or restart it: the shared one
 * must stay up for the others. Close it in `afterAll`.
 */
export function privateKafkaBroker(config?: Record<string, string>): Promise<KafkaBroker> {
  return startKafkaBroker({ log: () => undefined, ...(config === undefined ? {} : { config }) });
}

/**
 * A broker of the calling test's own with SASL and TLS listeners (`broker.secured`): PLAIN,
 * SCRAM-SHA-256 and SCRAM-SHA-512 for each of `users`, and a self-signed certificate made with
 * openssl. Its PLAINTEXT listener (`broker.brokers`) stays open, for the test's own client.
 */
export function securedKafkaBroker(users: Record<string, string>): Promise<KafkaBroker> {
  return startKafkaBroker({ log: () => undefined, users });
}
