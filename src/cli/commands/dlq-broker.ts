import type { LarderConfig } from '../../config/load-config.ts';
import { loadRegistry } from '../../registry/load.ts';
import type { Registry } from '../../registry/types.ts';
import { applyStreamOverrides } from '../../ingest/stream/stream-overrides.ts';
import {
  brokerDlqTargets,
  listBrokerDeadLetters,
  replayBrokerDeadLetters,
  showBrokerDeadLetter,
  summariseBrokerDeadLetters,
  type BrokerDlqTarget,
} from '../../ingest/stream/broker-dlq.ts';

/**
 * `larder dlq … --broker [stream/topic]`: the dead letters that broker consumers published to the
 * broker's own DLQ stream (Redis Streams, NATS JetStream), as opposed to the local dead-letter table.
 */
export async function openBrokerRegistry(
  registryDir: string | undefined,
  config: LarderConfig,
): Promise<Registry> {
  if (registryDir === undefined) throw new Error('--broker needs --registry <dir> to find the brokers');
  // The brokers this deployment talks to: the registry's bindings under the config's overrides.
  return applyStreamOverrides(await loadRegistry(registryDir), config.streams);
}

export function parseBrokerTarget(registry: Registry, value: string): BrokerDlqTarget {
  const slash = value.indexOf('/');
  const target = { stream: value.slice(0, slash), topic: value.slice(slash + 1) };
  const known = brokerDlqTargets(registry);
  if (slash < 1 || !known.some((t) => t.stream === target.stream && t.topic === target.topic)) {
    const names = known.map((t) => `${t.stream}/${t.topic}`).join(', ') || 'none';
    throw new Error(`"${value}" is not a broker-bound stream/topic of the registry (known: ${names})`);
  }
  return target;
}

export async function printBrokerList(
  registry: Registry,
  broker: string | true,
  options: { limit: number; after?: string; json?: boolean },
): Promise<void> {
  if (broker === true) {
    for (const s of await summariseBrokerDeadLetters(registry)) {
      process.stdout.write(`${s.stream}/${s.topic}  ${s.source}  ${s.location}  ${s.count} dead letters\n`);
    }
    return;
  }
  const target = parseBrokerTarget(registry, broker);
  const entries = await listBrokerDeadLetters(registry, target, {
    limit: options.limit,
    ...(options.after === undefined ? {} : { after: options.after }),
  });
  for (const e of entries) {
    if (options.json) process.stdout.write(`${JSON.stringify(e)}\n`);
    else {
      const when = e.deadAt === undefined ? '-' : new Date(e.deadAt).toISOString();
      const error = e.headers['larder-last-error'] ?? '';
      process.stdout.write(`${e.id}  ${when}  attempts=${e.headers['larder-attempts'] ?? '?'}  ${error}\n`);
    }
  }
  if (!options.json) process.stdout.write(`${entries.length} shown from ${broker}\n`);
}

export async function printBrokerEntry(registry: Registry, broker: string, id: string): Promise<void> {
  const entry = await showBrokerDeadLetter(registry, parseBrokerTarget(registry, broker), id);
  process.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
}

export async function replayBroker(
  registry: Registry,
  broker: string,
  ids: readonly string[] | 'all',
): Promise<void> {
  const replayed = await replayBrokerDeadLetters(registry, parseBrokerTarget(registry, broker), ids);
  process.stdout.write(
    `replayed ${replayed.length} dead letters onto ${broker} with their original identity\n`,
  );
}
