import { LarderError } from '../../errors.ts';
import type { Registry } from '../../registry/types.ts';
import type { BrokerDeadLetter, BrokerDeadLetterQueue } from './broker-dlq-contract.ts';
import { openBrokerDeadLetterQueue } from './source-factory.ts';
import { consumerBindings } from './start-consumers.ts';

/**
 * Broker dead-letter inspection for `larder dlq --broker …`: the dead letters that broker
 * consumers published to their broker's DLQ stream (Redis Streams `<topic>:dlq`, NATS
 * `larder.dlq.<stream>.<topic>`), beside the LMDB dead-letter table that every source fills.
 */
export interface BrokerDlqTarget {
  readonly stream: string;
  readonly topic: string;
}

export interface BrokerDlqSummary extends BrokerDlqTarget {
  readonly source: string;
  readonly location: string;
  readonly count: number;
}

/** The broker-bound topics whose dead letters live in the broker (Redis and NATS streams). */
export function brokerDlqTargets(registry: Registry): BrokerDlqTarget[] {
  return consumerBindings(registry)
    .filter((b) => b.stream.source === 'redis' || b.stream.source === 'nats')
    .map((b) => ({ stream: b.stream.name, topic: b.topic }));
}

async function withQueue<T>(
  registry: Registry,
  target: BrokerDlqTarget,
  use: (q: BrokerDeadLetterQueue) => Promise<T>,
): Promise<T> {
  const def = registry.streams.get(target.stream);
  if (def === undefined) {
    throw new LarderError(
      'LARDER_ERR_UNKNOWN_STREAM',
      `stream "${target.stream}" is not declared in the registry`,
    );
  }
  const queue = await openBrokerDeadLetterQueue(def, target.topic);
  try {
    return await use(queue);
  } finally {
    await queue.close();
  }
}

/** One line per broker DLQ: where it is and how many dead letters it holds. */
export async function summariseBrokerDeadLetters(registry: Registry): Promise<BrokerDlqSummary[]> {
  const out: BrokerDlqSummary[] = [];
  for (const target of brokerDlqTargets(registry)) {
    const def = registry.streams.get(target.stream)!;
    out.push(
      await withQueue(registry, target, async (q) => ({
        ...target,
        source: def.source,
        location: q.location,
        count: await q.count(),
      })),
    );
  }
  return out;
}

/** Dead letters of one topic, oldest first, after `after` (an id from a previous page). */
export function listBrokerDeadLetters(
  registry: Registry,
  target: BrokerDlqTarget,
  options?: { readonly limit?: number; readonly after?: string },
): Promise<BrokerDeadLetter[]> {
  return withQueue(registry, target, (q) => q.list(options));
}

/** One dead letter; throws `LARDER_ERR_DLQ_NOT_FOUND` when the id is unknown. */
export function showBrokerDeadLetter(
  registry: Registry,
  target: BrokerDlqTarget,
  id: string,
): Promise<BrokerDeadLetter> {
  return withQueue(registry, target, async (q) => {
    const letter = await q.get(id);
    if (letter === undefined)
      throw new LarderError(
        'LARDER_ERR_DLQ_NOT_FOUND',
        `no dead letter ${id} for ${target.stream}/${target.topic}`,
      );
    return letter;
  });
}

/**
 * Publishes dead letters back to their topic with their original identity (bytes and publication
 * time), so the replayed writes land on the same rows; `ids` `all` replays every one. Returns the
 * ids replayed.
 */
export function replayBrokerDeadLetters(
  registry: Registry,
  target: BrokerDlqTarget,
  ids: readonly string[] | 'all',
): Promise<string[]> {
  return withQueue(registry, target, async (q) => {
    if (ids !== 'all') return q.replay(ids);
    const replayed: string[] = [];
    for (;;) {
      const page = await q.list({ limit: 500 });
      if (page.length === 0) return replayed;
      replayed.push(...(await q.replay(page.map((l) => l.id))));
    }
  });
}
