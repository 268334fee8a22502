import { Admin } from '@platformatic/kafka';
import { LarderError } from '../../errors.ts';
import { kafkaStartError } from './kafka-security.ts';
import type { KafkaSettings } from './kafka-settings.ts';

/**
 * Makes sure a topic's retry and dead-letter topics exist before anything reads or writes them:
 * brokers (MSK by default) need not create topics on first use, and this client never asks them
 * to. They get the topic's partition count and replication factor. The topic itself must exist:
 * a typo in a topic name fails at start, naming the topic, instead of consuming nothing.
 *
 * Safe to run from many processes at once: a topic someone else just created counts as created.
 */
export async function ensureKafkaTopics(settings: KafkaSettings, topic: string): Promise<void> {
  const admin = new Admin({
    clientId: `${settings.clientId}-admin`,
    bootstrapBrokers: settings.brokers,
    ...settings.security,
  });
  admin.on('error', () => undefined); // failures come back through the calls below
  try {
    const existing = new Set(
      await admin.listTopics().catch((err: unknown) => {
        throw kafkaStartError(settings, 'listing topics', err);
      }),
    );
    if (!existing.has(topic)) {
      throw new LarderError(
        'LARDER_ERR_STREAM_CONNECTION',
        `stream ${settings.stream}: Kafka topic ${topic} does not exist at ${settings.brokers.join(',')}: create it ` +
          `(its partition count is how many ingest processes can share it)`,
        { details: { topic } },
      );
    }
    const missing = [settings.retryTopic(topic), settings.dlqTopic(topic)].filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true });
    const main = metadata.topics.get(topic);
    const partitions = main?.partitionsCount ?? 1;
    const replicas = Math.max(1, main?.partitions[0]?.replicas.length ?? 1);
    try {
      await admin.createTopics({ topics: missing, partitions, replicas });
    } catch (err) {
      // Another process created them between our listing and our request.
      if (onlyAlreadyExists(err)) return;
      const now = new Set(await admin.listTopics());
      const still = missing.filter((t) => !now.has(t));
      if (still.length > 0) {
        throw new LarderError(
          'LARDER_ERR_STREAM_CONNECTION',
          `Kafka topic ${still.join(', ')} (for ${topic}) is missing and could not be created: ${String(err)}`,
          { cause: err, details: { topic: still[0] } },
        );
      }
    }
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** Whether every error in a CreateTopics failure is TOPIC_ALREADY_EXISTS (Kafka error code 36). */
function onlyAlreadyExists(err: unknown): boolean {
  const errors = (err as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return false;
  return errors.every(
    (e: unknown) =>
      (e as { apiId?: unknown } | null)?.apiId === 'TOPIC_ALREADY_EXISTS' ||
      (e as { apiCode?: unknown } | null)?.apiCode === 36,
  );
}
