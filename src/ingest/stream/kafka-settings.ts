import type { StreamDef } from '../../registry/types.ts';
import {
  KAFKA_SESSION_TIMEOUT_MS,
  optionError,
  readKafkaOptions,
  readKafkaSecurity,
} from '../../registry/stream-options.ts';
import { kafkaClientSecurity, type KafkaClientSecurity } from './kafka-security.ts';

/** What the Kafka source reads from `streams.<name>` (see docs/streams.md, "Kafka"). */
export interface KafkaSettings {
  /** The stream's name, for errors. */
  readonly stream: string;
  readonly brokers: string[];
  /** TLS and SASL of every client (consumer, fetcher, producers, admin): `connection.tls`/`.sasl`. */
  readonly security: KafkaClientSecurity;
  /** `SASL <mechanism> as <user>` and/or `TLS`, for errors; `plaintext` when neither. */
  readonly securityLabel: string;
  /** Consumer group of the topic itself (`group`). */
  readonly group: string;
  /** Consumer group of the retry topic (`options.retryGroup`, default `<group>.retry`). */
  readonly retryGroup: string;
  readonly clientId: string;
  /** Where a partition with no committed offset starts. */
  readonly startFrom: 'earliest' | 'latest';
  readonly retryTopic: (topic: string) => string;
  readonly dlqTopic: (topic: string) => string;
  /** How long the group waits for a silent member before giving its partitions to the others. */
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** How long a rebalance waits for every member to rejoin. */
  readonly rebalanceTimeoutMs: number;
}

export function kafkaSettings(def: StreamDef): KafkaSettings {
  const raw = def.connection.brokers ?? def.connection.url;
  if (raw === undefined)
    throw optionError(`streams.${def.name}.connection.brokers`, 'a list of host:port', raw);
  const brokers = (Array.isArray(raw) ? raw : String(raw).split(','))
    .map((b) => String(b).trim())
    .filter((b) => b !== '');
  // Throws on the first wrong option; `larder validate` reports them all (registry/stream-options.ts).
  const options = readKafkaOptions(def);
  const security = readKafkaSecurity(def);
  const { sasl } = security;
  const label = [
    ...(security.tls === undefined ? [] : ['TLS']),
    ...(sasl === undefined
      ? []
      : [`SASL ${sasl.mechanism}${sasl.username === undefined ? '' : ` as ${sasl.username}`}`]),
  ];
  const sessionTimeoutMs = options.sessionTimeout ?? KAFKA_SESSION_TIMEOUT_MS;
  const { retryTopic: retry, dlqTopic: dlq } = options;
  return {
    stream: def.name,
    brokers,
    security: kafkaClientSecurity(def.name, security),
    securityLabel: label.length === 0 ? 'plaintext' : label.join(', '),
    group: def.group,
    retryGroup: options.retryGroup ?? `${def.group}.retry`,
    clientId: options.clientId ?? `larder-${def.name}`,
    startFrom: options.startFrom ?? 'earliest',
    retryTopic: (topic) => retry ?? `${topic}.retry`,
    dlqTopic: (topic) => dlq ?? `${topic}.dlq`,
    sessionTimeoutMs,
    heartbeatIntervalMs: options.heartbeatInterval ?? Math.min(3_000, sessionTimeoutMs / 3),
    rebalanceTimeoutMs: Math.max(sessionTimeoutMs, 60_000),
  };
}
