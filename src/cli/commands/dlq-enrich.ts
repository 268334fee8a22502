import type { LarderConfig } from '../../config/load-config.ts';
import type { Invocation, InvocationQueue } from '../../enrich/invocation-queue.ts';
import { loadRegistry } from '../../registry/load.ts';
import { withInvocationQueue } from '../../runtime/enrich-queue.ts';

/**
 * `larder dlq … --enricher [name]`: dead invocations of the enrichment workers, kept in the
 * queue of the config's `enrich.mode` (LMDB in `--data`, or BullMQ on `enrich.redis`). A replay
 * puts them back in the queue with their attempts reset: the workers (in `larder serve` or
 * `larder enrich`) run the handler again, and their results land on the same rows as any earlier
 * publication (the event ids come from the invocation ids).
 */
export interface EnrichDlqOptions {
  readonly config: LarderConfig;
  readonly data: string;
  readonly registry?: string;
}

export async function printEnrichList(
  options: EnrichDlqOptions,
  enricher: string | true,
  page: { limit: number; after?: string; json?: boolean },
): Promise<void> {
  await withInvocationQueue(options.config, options.data, async (queue) => {
    if (enricher === true) {
      for (const name of await enricherNames(options)) {
        const counts = await queue.counts(name);
        process.stdout.write(
          `${name}  ${counts.succeeded} succeeded, ${counts.dead} dead, ${counts.queued + counts.failed} waiting, ${counts.running} running\n`,
        );
      }
      return;
    }
    const entries = await queue.dead(enricher, {
      limit: page.limit,
      ...(page.after === undefined ? {} : { after: page.after }),
    });
    for (const entry of entries) {
      process.stdout.write(page.json ? `${JSON.stringify(entry)}\n` : `${formatDead(entry)}\n`);
    }
    if (!page.json)
      process.stdout.write(
        `${entries.length} shown, ${(await queue.counts(enricher)).dead} dead invocations of ${enricher}\n`,
      );
  });
}

export async function printEnrichEntry(
  options: EnrichDlqOptions,
  enricher: string,
  id: string,
): Promise<boolean> {
  return withInvocationQueue(options.config, options.data, async (queue) => {
    const entry = await queue.get(enricher, id);
    if (entry === undefined) {
      process.stderr.write(`no invocation ${id} of ${enricher}\n`);
      return false;
    }
    process.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
    return true;
  });
}

/** Returns how many were replayed; ids that are not dead are reported and skipped. */
export async function replayEnrich(
  options: EnrichDlqOptions,
  enricher: string,
  ids: readonly string[] | 'all',
): Promise<number> {
  return withInvocationQueue(options.config, options.data, async (queue) => {
    const wanted = ids === 'all' ? await allDead(queue, enricher) : ids;
    const replayed = await queue.replay(enricher, wanted);
    const skipped = wanted.filter((id) => !replayed.includes(id));
    for (const id of skipped)
      process.stderr.write(`${id} is not a dead invocation of ${enricher}; skipped\n`);
    process.stdout.write(
      `replayed ${replayed.length} dead invocations of ${enricher}: queued again, attempts reset\n`,
    );
    return replayed.length;
  });
}

async function allDead(queue: InvocationQueue, enricher: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const after = ids.at(-1);
    const page = await queue.dead(enricher, { limit: 1000, ...(after === undefined ? {} : { after }) });
    ids.push(...page.map((entry) => entry.id));
    if (page.length < 1000) return ids;
  }
}

async function enricherNames(options: EnrichDlqOptions): Promise<string[]> {
  if (options.registry === undefined)
    throw new Error('--enricher without a name needs --registry <dir> to list the enrichers');
  return [...(await loadRegistry(options.registry)).enrichers.keys()];
}

function formatDead(entry: Invocation): string {
  const when = new Date(entry.updatedAt).toISOString();
  const error = entry.error === undefined ? '' : `${entry.error.code}  ${entry.error.message}`;
  return `${entry.id}  ${when}  attempts=${entry.attempts}  ${error}`;
}
