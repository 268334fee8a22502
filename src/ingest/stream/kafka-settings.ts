import type { StreamDef } from '../../registry/types.ts';
import { duration, optionalString, optionError } from './consumer-options.ts';

/** What the Kafka source reads from `streams.<name>` (see docs/streams.md, "Kafka"). */
export interface KafkaSettings {
  readonly brokers: string[];
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
  const where = (key: string): string => `streams.${def.name}.options.${key}`;
  const raw = def.connection.brokers ?? def.connection.url;
  if (raw === undefined)
    throw optionError(`streams.${def.name}.connection.brokers`, 'a list of host:port', raw);
  const brokers = (Array.isArray(raw) ? raw : String(raw).split(','))
    .map((b) => String(b).trim())
    .filter((b) => b !== '');
  const start = optionalString(def.options.startFrom, where('startFrom')) ?? 'earliest';
  if (start !== 'earliest' && start !== 'latest')
    throw optionError(where('startFrom'), 'earliest or latest', start);
  const retry = optionalString(def.options.retryTopic, where('retryTopic'));
  const dlq = optionalString(def.options.dlqTopic, where('dlqTopic'));
  const sessionTimeoutMs = duration(def.options.sessionTimeout, where('sessionTimeout')) ?? 30_000;
  const heartbeatIntervalMs =
    duration(def.options.heartbeatInterval, where('heartbeatInterval')) ??
    Math.min(3_000, sessionTimeoutMs / 3);
  if (heartbeatIntervalMs >= sessionTimeoutMs)
    throw optionError(
      where('heartbeatInterval'),
      `shorter than sessionTimeout (${sessionTimeoutMs} ms)`,
      heartbeatIntervalMs,
    );
  return {
    brokers,
    group: def.group,
    retryGroup: optionalString(def.options.retryGroup, where('retryGroup')) ?? `${def.group}.retry`,
    clientId: optionalString(def.options.clientId, where('clientId')) ?? `larder-${def.name}`,
    startFrom: start,
    retryTopic: (topic) => retry ?? `${topic}.retry`,
    dlqTopic: (topic) => dlq ?? `${topic}.dlq`,
    sessionTimeoutMs,
    heartbeatIntervalMs,
    rebalanceTimeoutMs: Math.max(sessionTimeoutMs, 60_000),
  };
}
