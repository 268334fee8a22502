import type { Ingestor } from '../ingest/ingestor-contract.ts';
import type { DeadLetter, DeadLetterStore } from '../store/dead-letters.ts';

export interface ReplayOutcome {
  readonly replayed: number;
  readonly accepted: number;
  readonly filtered: number;
  readonly rejected: number;
}

const PAGE = 500;

/**
 * Re-ingests dead letters with their original identity (body, raw bytes, arrival time), in pages,
 * and removes each page from the table once ingested. An event rejected again is dead-lettered
 * anew by the ingestor, so the old entry goes either way and nothing is lost. What
 * `larder dlq replay` and the console's replay both run.
 */
export async function replayDeadLetters(
  ingestor: Ingestor,
  deadLetters: DeadLetterStore,
  entries: readonly DeadLetter[],
): Promise<ReplayOutcome> {
  let accepted = 0;
  let filtered = 0;
  let rejected = 0;
  for (let i = 0; i < entries.length; i += PAGE) {
    const page = entries.slice(i, i + PAGE);
    const report = await ingestor.ingest(
      page.map((e) => ({
        stream: e.stream,
        topic: e.topic,
        body: e.body,
        ...(e.raw === undefined ? {} : { bytes: e.raw }),
        receivedAt: e.at,
      })),
      { origin: 'dlq-replay' },
    );
    accepted += report.accepted;
    filtered += report.filtered;
    rejected += report.rejected;
    await deadLetters.remove(page.map((e) => e.id));
  }
  return { replayed: entries.length, accepted, filtered, rejected };
}
